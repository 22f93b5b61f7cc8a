import { startTestApp, codeOf, type TestApp, type TestUser } from '../support/app';
import {
  ConversationByIdDocument,
  DeleteMessageRequestDocument,
  FollowDocument,
  InboxBadgeDocument,
  InboxDocument,
  MessageButtonDocument,
  MessageRequestsDocument,
  NotificationsDocument,
  OnInboxBadgeChangedDocument,
  OnMessageReceivedDocument,
  OnMessageRequestReceivedDocument,
  RequestQuotaDocument,
  SendMessageDocument,
  SendMessageRequestDocument,
  SentMessageRequestsDocument,
  BlockUserDocument,
} from '../generated/graphql';

/**
 * SPEC §2, the seed's rule (issue 15 item 1): "in order to message someone who doesn't
 * already follow you, you first have to send them a message request". Someone who follows
 * you reaches you directly.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ DAILY_MESSAGE_REQUEST_LIMIT: '3', MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000' });
});
afterAll(() => t.close());
afterEach(() => t.clock.reset());

const send = (from: TestUser, to: { id: string }, text: string, clientMessageId?: string) =>
  t.gql(SendMessageRequestDocument, { input: { recipientId: to.id, text, clientMessageId } }, from.token);

async function followedPair(opts: Parameters<TestApp['makeUser']>[0] = {}) {
  const [a, b] = [await t.makeUser(), await t.makeUser(opts)];
  await t.ok(FollowDocument, { userId: a.id }, b.token);
  return [a, b] as const;
}

describe('a followed sender skips the Requests folder', () => {
  it('the Message button says MESSAGE, and the first message lands in the inbox (HTTP and graphql-ws)', async () => {
    const [a, b] = await followedPair();
    expect((await t.ok(MessageButtonDocument, { username: b.username }, a.token)).user!.messageButton).toEqual({ state: 'MESSAGE', reason: null, explanation: null });
    const received = await t.subscribe(OnMessageReceivedDocument, {}, b.token);
    const requested = await t.subscribe(OnMessageRequestReceivedDocument, {}, b.token);
    const badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, b.token);

    const res = await send(a, b, 'hey, saw your climb video!');
    expect(res.errors).toBeUndefined();
    const request = res.data!.sendMessageRequest;
    expect(request.status).toBe('ACCEPTED');

    // Live, as a message of an open conversation: never as a request.
    expect((await received.next()).messageReceived.message).toMatchObject({ text: 'hey, saw your climb video!', sender: { id: a.id } });
    expect((await badge.next()).inboxBadgeChanged.badge).toEqual({ pendingRequestCount: 0, showDot: true });
    expect(requested.events).toHaveLength(0);
    await Promise.all([received.close(), requested.close(), badge.close()]);

    // The inbox, not the folder.
    const inbox = (await t.ok(InboxDocument, {}, b.token)).conversations.edges.map((e) => e.node);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({ id: request.conversation.id, isRequest: false, unreadCount: 1, lastMessage: { text: 'hey, saw your climb video!' } });
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.totalCount).toBe(0);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toMatchObject({ pendingRequestCount: 0, unreadConversationCount: 1, showDot: true });
    // No request notification: a message's badge, as for any message.
    expect((await t.ok(NotificationsDocument, {}, b.token)).notifications.edges).toHaveLength(0);

    // Both can go on with sendMessage at once; the button opens the conversation.
    expect((await t.gql(SendMessageDocument, { input: { conversationId: request.conversation.id, text: 'thanks!' } }, b.token)).errors).toBeUndefined();
    expect((await t.gql(SendMessageDocument, { input: { conversationId: request.conversation.id, text: 'anytime' } }, a.token)).errors).toBeUndefined();
    expect((await t.ok(MessageButtonDocument, { username: b.username }, a.token)).user!.messageButton.state).toBe('MESSAGE');
    expect((await t.ok(SentMessageRequestsDocument, {}, a.token)).sentMessageRequests.edges.map((e) => e.node.status)).toEqual(['ACCEPTED']);
  });

  it('is idempotent by clientMessageId and counts against the daily request limit', async () => {
    const [a, b] = await followedPair();
    const first = await send(a, b, 'hello friend', 'direct-1');
    const again = await send(a, b, 'hello friend', 'direct-1');
    expect(again.data!.sendMessageRequest).toEqual(first.data!.sendMessageRequest);
    const messages = await t.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE sender_id = $1', [a.id]);
    expect(messages[0].n).toBe(1);
    expect(codeOf(await send(a, b, 'other words', 'direct-1'))).toBe('IDEMPOTENCY_KEY_REUSED');
    // A second send: already connected, as for any open conversation.
    expect(codeOf(await send(a, b, 'hello again'))).toBe('ALREADY_CONNECTED');
    expect((await t.ok(RequestQuotaDocument, {}, a.token)).requestQuota).toMatchObject({ limit: 3, used: 1, remaining: 2 });
  });

  it('still applies every other rule: a block, NOBODY and the limit refuse it', async () => {
    const [a, b] = await followedPair();
    await t.ok(BlockUserDocument, { userId: a.id }, b.token);
    expect(codeOf(await send(a, b, 'hi'))).toBe('RECIPIENT_UNAVAILABLE');
    const [c, d] = await followedPair({ policy: 'NOBODY' });
    expect(codeOf(await send(c, d, 'hi'))).toBe('RECIPIENT_UNAVAILABLE');
    const [e, f] = await followedPair();
    for (let i = 0; i < 3; i++) await t.ok(SendMessageRequestDocument, { input: { recipientId: (await t.makeUser()).id, text: 'hi' } }, e.token);
    expect(codeOf(await send(e, f, 'hi'))).toBe('DAILY_REQUEST_LIMIT_REACHED');
  });

  it("a request sent before the recipient followed is taken along; a deleted one's text stays hidden", async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const [c, d] = [await t.makeUser(), await t.makeUser()];
    const kept = (await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'an early hello' } }, a.token)).sendMessageRequest;
    const deleted = (await t.ok(SendMessageRequestDocument, { input: { recipientId: d.id, text: 'a deleted hello' } }, c.token)).sendMessageRequest;
    await t.ok(DeleteMessageRequestDocument, { id: deleted.id }, d.token);
    await t.ok(FollowDocument, { userId: a.id }, b.token);
    await t.ok(FollowDocument, { userId: c.id }, d.token);

    const viaKept = (await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'following up' } }, a.token)).sendMessageRequest;
    expect(viaKept).toMatchObject({ status: 'ACCEPTED', conversation: { id: kept.conversation.id } });
    expect((await t.ok(SentMessageRequestsDocument, {}, a.token)).sentMessageRequests.edges.map((e) => e.node.status)).toEqual(['ACCEPTED', 'ACCEPTED']);
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.totalCount).toBe(0);
    const asB = (await t.ok(ConversationByIdDocument, { id: kept.conversation.id, last: 10 }, b.token)).conversation!;
    expect(asB.messages.edges.map((e) => e.node.text)).toEqual(['an early hello', 'following up']);

    const viaDeleted = (await t.ok(SendMessageRequestDocument, { input: { recipientId: d.id, text: 'trying again' } }, c.token)).sendMessageRequest;
    expect(viaDeleted.status).toBe('ACCEPTED');
    const asD = (await t.ok(ConversationByIdDocument, { id: deleted.conversation.id, last: 10 }, d.token)).conversation!;
    expect(asD.messages.edges.map((e) => e.node.text)).toEqual(['trying again']);
    expect(asD.unreadCount).toBe(1);
  });
});
