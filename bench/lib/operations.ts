/**
 * The GraphQL documents the bench sends: what a mobile client of the product would ask
 * for on each screen (the SPEC's fields), nothing exotic.
 */

/** Our stack has no `hello` field: `{ __typename }` is the trivial query through all of it. */
export const HELLO_OURS = `query Hello { __typename }`;
export const HELLO_BARE = `query Hello { hello }`;

export const SEND_REQUEST = `mutation SendRequest($input: SendMessageRequestInput!) {
  sendMessageRequest(input: $input) { id status createdAt text }
}`;

export const ACCEPT_REQUEST = `mutation Accept($id: ID!) {
  acceptMessageRequest(id: $id) { id isRequest otherParticipant { id username } }
}`;

/** The Requests folder: sender's username, display name, avatar, verified mark, intro and time. */
export const REQUESTS_PAGE = `query Requests($first: Int!) {
  messageRequests(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id text createdAt status sender { id username displayName avatarUrl verified } } }
  }
}`;

/** The inbox: other participant, last message, exact unread count. */
export const INBOX_PAGE = `query Inbox($first: Int!) {
  conversations(first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id unreadCount
      otherParticipant { id username displayName avatarUrl verified }
      lastMessage { id text createdAt status sender { id } }
    } }
  }
}`;

export const SEND_MESSAGE = `mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) { id createdAt status clientMessageId }
}`;

export const MARK_SEEN = `mutation Seen($conversationId: ID!) {
  markConversationSeen(conversationId: $conversationId) { id unreadCount }
}`;

export const SUB_MESSAGE_RECEIVED = `subscription OnMessage {
  messageReceived { cursor message { id text createdAt sender { id } } }
}`;

export const SUB_MESSAGE_SEEN = `subscription OnSeen {
  messageSeen { cursor conversationId upToMessageId seenAt reader { id } }
}`;

/** The Messages tab's badge, as the client's own ClientOnInboxBadgeChanged asks for it. */
export const SUB_INBOX_BADGE = `subscription OnBadge {
  inboxBadgeChanged { cursor badge { pendingRequestCount unreadConversationCount unreadNotificationCount showDot } }
}`;

/** What an idle client keeps open: rarely fires. */
export const SUB_IDLE = `subscription Idle {
  messageRequestAccepted { cursor request { id } }
}`;

export const BARRIER = `query Barrier { __typename }`;

export function body(query: string, variables?: Record<string, unknown>): string {
  return JSON.stringify(variables ? { query, variables } : { query });
}
