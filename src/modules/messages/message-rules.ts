import { checkMessageText } from '../../lib/text';
import type { ErrorCode } from '../../graphql/errors';
import { messagingBannedDenial } from '../moderation/ban-rules';

/**
 * The rules of sendMessage (SPEC §4) as one pure function over plain data, in order:
 * a banned sender, the sender's own messages off, a block either way or a recipient who
 * accepts no messages (one generic answer), a conversation still a request, then the text. Following is not required once a conversation is
 * open. Table-tested in test/unit/message-rules.test.ts.
 */
export const MAX_MESSAGE_TEXT = 4000;

export interface SendMessageFacts {
  senderBan: { until: Date | null } | null;
  /** The sender's own policy: NOBODY turns messaging off both ways (SPEC §1). */
  senderPolicy: 'EVERYONE' | 'FOLLOWING' | 'NOBODY' | null;
  relationship: { aBlocksB: boolean; bBlocksA: boolean };
  conversationOpen: boolean;
  recipientPolicy: 'EVERYONE' | 'FOLLOWING' | 'NOBODY' | null;
  text: string;
  /** replyToId names a message of this conversation the sender can see, not unsent (true when there is none). */
  replyFound?: boolean;
}

export type SendMessageVerdict =
  | { allowed: true }
  | { allowed: false; code: ErrorCode; message: string; extensions: Record<string, unknown> };

const TEXT_PROBLEMS = {
  EMPTY: 'A message needs some text',
  TOO_LONG: `A message can be at most ${MAX_MESSAGE_TEXT} characters`,
  CONTROL_CHARACTER: 'A message cannot contain control characters',
} as const;

/**
 * Seen receipts (seen_at on the other party's messages, MESSAGE_SEEN to them) exist only
 * in an open conversation — no receipt before a request is accepted — and never across a
 * block either way. The reader's own pointer moves regardless.
 */
export function receiptsAllowed(facts: { conversationOpen: boolean; relationship: { aBlocksB: boolean; bBlocksA: boolean } }): boolean {
  return facts.conversationOpen && !facts.relationship.aBlocksB && !facts.relationship.bBlocksA;
}

/**
 * Read receipts on/off (SPEC §8): off means the account neither sends SEEN nor sees it.
 * A receipt is written only while both the reader and the sender have them on (decided
 * in markConversationSeen's statement, which reads both settings as it writes), and a
 * sender with them off sees its own messages as unseen: `seenAt` as the viewer may see it.
 */
export function visibleSeenAt(
  message: { senderId: string; seenAt: Date | null },
  viewer: { id: string; readReceipts: boolean } | null,
): Date | null {
  if (viewer && message.senderId === viewer.id && !viewer.readReceipts) return null;
  return message.seenAt;
}

/** The text rule alone: sendMessage appends only such a text before its verdict. */
export function messageTextAcceptable(text: string): boolean {
  return checkMessageText(text, MAX_MESSAGE_TEXT) === null;
}

export function evaluateSendMessage(facts: SendMessageFacts): SendMessageVerdict {
  if (facts.senderBan) return { allowed: false, ...messagingBannedDenial(facts.senderBan) };
  if (facts.senderPolicy === 'NOBODY') {
    return { allowed: false, code: 'OWN_MESSAGING_DISABLED', message: 'Turn messages on in your settings to send messages', extensions: {} };
  }
  // A block and the recipient's messages off answer alike (SPEC §8: no oracle), so the
  // other party cannot tell which it was; both are checked before the conversation's state.
  const recipientOff = facts.recipientPolicy === null || facts.recipientPolicy === 'NOBODY';
  if (facts.relationship.aBlocksB || facts.relationship.bBlocksA || recipientOff) {
    return { allowed: false, code: 'RECIPIENT_UNAVAILABLE', message: "You can't message this account", extensions: {} };
  }
  if (!facts.conversationOpen) {
    return { allowed: false, code: 'REQUEST_PENDING', message: 'You can send more messages once your request is accepted', extensions: {} };
  }
  // Another conversation's message, or one gone, is as if it did not exist.
  if (facts.replyFound === false) return { allowed: false, code: 'NOT_FOUND', message: 'The message replied to was not found', extensions: { field: 'replyToId' } };
  const problem = checkMessageText(facts.text, MAX_MESSAGE_TEXT);
  if (problem) return { allowed: false, code: 'BAD_USER_INPUT', message: TEXT_PROBLEMS[problem], extensions: { field: 'text' } };
  return { allowed: true };
}
