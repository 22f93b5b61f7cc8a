import { startTestApp, type TestApp, type TestUser } from '../support/app';
import { openConversation } from '../support/conversations';
import { until } from '../support/until';
import {
  ConversationByIdDocument,
  InboxBadgeDocument,
  InboxDocument,
  MarkConversationSeenDocument,
  MessageRequestsDocument,
  MessagesDocument,
  MuteConversationDocument,
  NotificationsDocument,
  OnMessageReceivedDocument,
  OnMessageRequestReceivedDocument,
  OnMessageSeenDocument,
  SendMessageDocument,
  SendMessageRequestDocument,
  UnmuteConversationDocument,
  UpdateMessagingSettingsDocument,
  WithdrawMessageRequestDocument,
} from '../generated/graphql';

/**
 * SPEC §8 controls: mute (a conversation, or a person's requests through the request's
 * conversation) and read receipts on/off; and issue 14.7c/16: inboxBadgeChanged computed
 * once per account per event, and coalesced.
 */
let t: TestApp;
beforeAll(async () => {
  // No coalescing window here: each badge change is its own update, so the order of
  // updates is the order of changes (the window has its own app below).
  t = await startTestApp({ MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000', INBOX_BADGE_COALESCE_MS: '0' });
});
afterAll(() => t.close());

const BADGE = `subscription { inboxBadgeChanged { cursor badge { pendingRequestCount unreadConversationCount unreadNotificationCount showDot } } }`;
type BadgeEvent = { inboxBadgeChanged: { cursor: string; badge: Badge } };
type Badge = { pendingRequestCount: number; unreadConversationCount: number; unreadNotificationCount: number; showDot: boolean };
const LOG = `query($after: String) { events(after: $after) { cursor type conversationId messageId upToMessageId readerId seenAt } }`;
type LogEntry = { cursor: string; type: string; conversationId: string | null; messageId: string | null; seenAt: string | null };

const badgeOf = async (u: TestUser) => (await t.ok(InboxBadgeDocument, {}, u.token)).inboxBadge;
const logOf = async (u: TestUser) => (await t.ok<{ events: LogEntry[] }, { after: string | null }>(LOG, { after: null }, u.token)).events;
const send = async (from: TestUser, conversationId: string, text: string) =>
  (await t.ok(SendMessageDocument, { input: { conversationId, text } }, from.token)).sendMessage;
const markSeen = (u: TestUser, conversationId: string) => t.ok(MarkConversationSeenDocument, { conversationId }, u.token);
const receipts = (u: TestUser, on: boolean) => t.ok(UpdateMessagingSettingsDocument, { input: { readReceipts: on } }, u.token);
const statusesSeenBy = async (u: TestUser, conversationId: string) =>
  (await t.ok(MessagesDocument, { conversationId }, u.token)).messages.edges.map((e) => ({ text: e.node.text, status: e.node.status, seenAt: e.node.seenAt }));

describe('mute a conversation', () => {
  it('messages still arrive and count in its unreadCount, but not in the badge or dot, and no inboxBadgeChanged; unmute restores', async () => {
    const [a, b, c] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const ab = await openConversation(t, a, b);
    const cb = await openConversation(t, c, b);
    await markSeen(b, ab);
    await markSeen(b, cb);
    expect(await badgeOf(b)).toMatchObject({ unreadConversationCount: 0, showDot: false });

    const muted = await t.ok(MuteConversationDocument, { id: ab }, b.token);
    expect(muted.muteConversation).toEqual({ id: ab, muted: true, unreadCount: 0 });
    const received = await t.subscribe(OnMessageReceivedDocument, {}, b.token);
    const badge = await t.subscribe<BadgeEvent, unknown>(BADGE, {}, b.token);
    const logBefore = (await logOf(b)).length;
    const badgeChangesSince = async () => (await logOf(b)).slice(logBefore).filter((e) => e.type === 'INBOX_BADGE_CHANGED');

    // Into the muted conversation: the message arrives (live and in history)…
    const quiet = await send(a, ab, 'muted hello');
    expect((await received.next()).messageReceived.message).toMatchObject({ id: quiet.id, text: 'muted hello' });
    const history = await t.ok(MessagesDocument, { conversationId: ab }, b.token);
    expect(history.messages.edges.map((e) => e.node.id)).toContain(quiet.id);
    // …the conversation itself counts it…
    expect((await t.ok(ConversationByIdDocument, { id: ab }, b.token)).conversation).toMatchObject({ unreadCount: 1, muted: true });
    const inbox = await t.ok(InboxDocument, { first: 10 }, b.token);
    expect(inbox.conversations.edges.find((e) => e.node.id === ab)?.node).toMatchObject({ unreadCount: 1, muted: true });
    // …but the badge does not, and no badge change was written or sent for it.
    expect(await badgeOf(b)).toEqual({ pendingRequestCount: 0, unreadConversationCount: 0, unreadNotificationCount: 0, showDot: false });
    expect(await badgeChangesSince()).toEqual([]);

    // A message in a conversation that is not muted: its badge update is the first one b gets.
    await send(c, cb, 'loud hello');
    const first = (await badge.next()).inboxBadgeChanged;
    expect(first.badge).toEqual({ pendingRequestCount: 0, unreadConversationCount: 1, unreadNotificationCount: 0, showDot: true });
    expect(badge.events).toHaveLength(1);
    expect((await badgeChangesSince()).map((e) => e.conversationId)).toEqual([cb]);

    // Reading the muted conversation changes no badge either; reading the other one does.
    await markSeen(b, ab);
    await markSeen(b, cb);
    expect((await badge.next()).inboxBadgeChanged.badge).toMatchObject({ unreadConversationCount: 0, showDot: false });
    expect(badge.events).toHaveLength(2);

    // Unmute: the conversation counts again, and its messages light the badge.
    await send(a, ab, 'still there');
    expect(await badgeOf(b)).toMatchObject({ unreadConversationCount: 0, showDot: false });
    const unmuted = await t.ok(UnmuteConversationDocument, { id: ab }, b.token);
    expect(unmuted.unmuteConversation).toEqual({ id: ab, muted: false, unreadCount: 1 });
    expect((await badge.next()).inboxBadgeChanged.badge).toMatchObject({ unreadConversationCount: 1, showDot: true });
    expect(await badgeOf(b)).toMatchObject({ unreadConversationCount: 1, showDot: true });
    await markSeen(b, ab);
    expect((await badge.next()).inboxBadgeChanged.badge).toMatchObject({ unreadConversationCount: 0, showDot: false });
    await send(a, ab, 'after unmute');
    expect((await badge.next()).inboxBadgeChanged.badge).toMatchObject({ unreadConversationCount: 1, showDot: true });
    // The other participant's view is its own: a never muted anything.
    expect((await t.ok(ConversationByIdDocument, { id: ab }, a.token)).conversation.muted).toBe(false);
    await Promise.all([received.close(), badge.close()]);
  });

  it('muting again or unmuting what is not muted changes nothing and sends nothing', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const ab = await openConversation(t, a, b);
    await t.ok(MuteConversationDocument, { id: ab }, b.token);
    const before = (await logOf(b)).length;
    expect((await t.ok(MuteConversationDocument, { id: ab }, b.token)).muteConversation.muted).toBe(true);
    expect((await t.ok(UnmuteConversationDocument, { id: ab }, a.token)).unmuteConversation.muted).toBe(false);
    expect(await logOf(b)).toHaveLength(before);
  });
});

describe("mute a person's requests (muteConversation on the request's conversation)", () => {
  it('takes the request out of the badge and the dot, keeps it in the folder; later requests from that person notify nothing; unmute restores', async () => {
    const [s, r] = [await t.makeUser(), await t.makeUser()];
    const sent = (await t.ok(SendMessageRequestDocument, { input: { recipientId: r.id, text: 'hi, a request' } }, s.token)).sendMessageRequest;
    expect(await badgeOf(r)).toEqual({ pendingRequestCount: 1, unreadConversationCount: 0, unreadNotificationCount: 1, showDot: true });

    const conversationId = sent.conversation.id;
    expect((await t.ok(MuteConversationDocument, { id: conversationId }, r.token)).muteConversation.muted).toBe(true);
    expect(await badgeOf(r)).toEqual({ pendingRequestCount: 0, unreadConversationCount: 0, unreadNotificationCount: 0, showDot: false });
    const folder = await t.ok(MessageRequestsDocument, { first: 10 }, r.token);
    expect(folder.messageRequests.totalCount).toBe(1);
    expect(folder.messageRequests.edges[0].node).toMatchObject({ id: sent.id, muted: true });

    // Unmute: the badge count and the dot come back.
    await t.ok(UnmuteConversationDocument, { id: conversationId }, r.token);
    expect(await badgeOf(r)).toEqual({ pendingRequestCount: 1, unreadConversationCount: 0, unreadNotificationCount: 1, showDot: true });

    // Muted again, further activity from that person: the request still arrives, but
    // creates no notification, no badge count, no dot and no badge change.
    await t.ok(MuteConversationDocument, { id: conversationId }, r.token);
    const received = await t.subscribe(OnMessageRequestReceivedDocument, {}, r.token);
    await t.ok(WithdrawMessageRequestDocument, { id: sent.id }, s.token);
    const logBefore = await logOf(r);
    const again = (await t.ok(SendMessageRequestDocument, { input: { recipientId: r.id, text: 'hi again' } }, s.token)).sendMessageRequest;
    expect((await received.next()).messageRequestReceived.request.id).toBe(again.id);
    expect(again.conversation.id).toBe(conversationId);
    const notifications = await t.ok(NotificationsDocument, { first: 10 }, r.token);
    expect(notifications.notifications.edges.filter((e) => e.node.request?.id === again.id)).toEqual([]);
    expect(await badgeOf(r)).toEqual({ pendingRequestCount: 0, unreadConversationCount: 0, unreadNotificationCount: 0, showDot: false });
    expect((await logOf(r)).slice(logBefore.length).map((e) => e.type)).toEqual(['MESSAGE_REQUEST_RECEIVED']);
    await received.close();
  });
});

describe('read receipts off', () => {
  it("A off: B's messages read by A stay SENT to B, B gets no messageSeen; A's own unread count still drops", async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const ba = await openConversation(t, b, a, 'from b');
    const settings = await receipts(a, false);
    expect(settings.updateMessagingSettings).toMatchObject({ readReceipts: false, directMessagePolicy: 'EVERYONE' });
    const seenByB = await t.subscribe(OnMessageSeenDocument, {}, b.token);

    expect((await markSeen(a, ba)).markConversationSeen.unreadCount).toBe(0);
    expect(await statusesSeenBy(b, ba)).toEqual([{ text: 'from b', status: 'SENT', seenAt: null }]);
    expect((await logOf(b)).filter((e) => e.type === 'MESSAGE_SEEN')).toEqual([]);

    // Back on: A's next read sends the receipt, and it is the first messageSeen B ever gets.
    await send(b, ba, 'second');
    await receipts(a, true);
    await markSeen(a, ba);
    const event = (await seenByB.next()).messageSeen;
    expect(event.reader.id).toBe(a.id);
    expect(seenByB.events).toHaveLength(1);
    expect((await statusesSeenBy(b, ba)).map((m) => m.status)).toEqual(['SEEN', 'SEEN']);
    await seenByB.close();
  });

  it('A off: A sees no SEEN or seenAt on its own messages read by B, nor messageSeen (HTTP, subscription, events(after:))', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const ab = await openConversation(t, a, b, 'from a');
    // Receipts on: B's read shows to A.
    await markSeen(b, ab);
    expect((await statusesSeenBy(a, ab))[0]).toMatchObject({ status: 'SEEN' });
    expect((await logOf(a)).filter((e) => e.type === 'MESSAGE_SEEN')).toHaveLength(1);

    // Off: that receipt is hidden from A too, over HTTP and in its event log.
    await receipts(a, false);
    expect(await statusesSeenBy(a, ab)).toEqual([{ text: 'from a', status: 'SENT', seenAt: null }]);
    expect((await t.ok(InboxDocument, { first: 5 }, a.token)).conversations.edges[0].node.lastMessage).toMatchObject({ status: 'SENT', seenAt: null });
    expect((await logOf(a)).filter((e) => e.type === 'MESSAGE_SEEN')).toEqual([]);
    // B still sees its own reading of A's message (that is not a receipt to A).
    expect((await statusesSeenBy(b, ab))[0].status).toBe('SEEN');

    // New messages read by B while A is off: no receipt written, none delivered.
    const seenByA = await t.subscribe(OnMessageSeenDocument, {}, a.token);
    await send(a, ab, 'while off');
    await markSeen(b, ab);
    expect((await statusesSeenBy(a, ab)).map((m) => m.status)).toEqual(['SENT', 'SENT']);
    const [{ n }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE user_id = $1 AND type = 'MESSAGE_SEEN'`, [a.id]);
    expect(n).toBe(1); // the one from before A turned receipts off

    // On again: the next receipt is the first messageSeen A's subscription delivers.
    await receipts(a, true);
    await send(a, ab, 'back on');
    await markSeen(b, ab);
    expect((await seenByA.next()).messageSeen.reader.id).toBe(b.id);
    expect(seenByA.events).toHaveLength(1);
    await seenByA.close();
  });

  it('updateMessagingSettings changes only what it is given', async () => {
    const a = await t.makeUser({ policy: 'FOLLOWING' });
    const off = await receipts(a, false);
    expect(off.updateMessagingSettings).toMatchObject({ directMessagePolicy: 'FOLLOWING', readReceipts: false });
    const policy = await t.ok(UpdateMessagingSettingsDocument, { input: { directMessagePolicy: 'NOBODY' } }, a.token);
    expect(policy.updateMessagingSettings).toMatchObject({ directMessagePolicy: 'NOBODY', readReceipts: false });
    // Someone else's setting is theirs alone.
    const b = await t.makeUser();
    const seen = await t.gql<{ user: { readReceipts: boolean | null } }, unknown>(`query($u: String!) { user(username: $u) { readReceipts } }`, { u: a.username }, b.token);
    expect(seen.data?.user.readReceipts).toBeNull();
  });
});

describe('inboxBadgeChanged computed once per account', () => {
  async function badgeSockets(u: TestUser, sockets: number, perSocket: number) {
    const before = t.app.services.events.listenerCount();
    const got: number[] = [];
    const clients = Array.from({ length: sockets }, () => t.wsClient(u.token));
    const disposers = clients.flatMap((client) =>
      Array.from({ length: perSocket }, () => {
        const k = got.push(0) - 1;
        return client.subscribe({ query: BADGE }, { next: () => void got[k]++, error: () => undefined, complete: () => undefined });
      }),
    );
    await until('the subscriptions to start', () => t.app.services.events.listenerCount() === before + sockets * perSocket);
    return {
      got,
      close: async () => {
        disposers.forEach((d) => d());
        await Promise.all(clients.map((c) => c.dispose()));
        await until('the subscriptions to end', () => t.app.services.events.listenerCount() === before);
      },
    };
  }

  async function statementsForOneMessage(sockets: number, perSocket: number): Promise<number> {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const ab = await openConversation(t, a, b);
    await t.ok(`query { me { id } }`, {}, a.token);
    const subs = await badgeSockets(b, sockets, perSocket);
    t.sql.reset();
    await send(a, ab, 'one message');
    await until('every subscription to get the badge', () => subs.got.every((n) => n === 1));
    const count = t.sql.count;
    await subs.close();
    return count;
  }

  it('10 sockets × 20 subscriptions cost the same statements for one message as 1 × 1', async () => {
    const one = await statementsForOneMessage(1, 1);
    const many = await statementsForOneMessage(10, 20);
    expect(many).toBe(one);
    // The send's batch (BEGIN, the pair lock with its rate-limit count, its one statement,
    // COMMIT), the sender it answers with, and one badge statement (its 3 counts together),
    // whatever the number of subscriptions.
    expect(one).toBe(6);
  });
});

describe('inboxBadgeChanged coalesced per account', () => {
  let w: TestApp;
  beforeAll(async () => {
    w = await startTestApp({ INBOX_BADGE_COALESCE_MS: '1500', DAILY_MESSAGE_REQUEST_LIMIT: '100' });
  });
  afterAll(() => w.close());

  it('a burst of changes reaches each subscriber as at most one update per window, ending on the badge as it is', async () => {
    const b = await w.makeUser();
    const senders = await Promise.all(Array.from({ length: 6 }, () => w.makeUser()));
    const first = await w.subscribe<BadgeEvent, unknown>(BADGE, {}, b.token);
    const second = await w.subscribe<BadgeEvent, unknown>(BADGE, {}, b.token);
    await Promise.all(senders.map((s, i) => w.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: `burst ${i}` } }, s.token)));
    // The last update carries the newest badge event's cursor (events(after:) resumes from
    // there) and the badge as it is. (The first update, read an instant later than its own
    // event, may already count all six: it is not the last.)
    const [{ seq }] = await w.query<{ seq: string }>(`SELECT max(seq)::text AS seq FROM events WHERE user_id = $1 AND type = 'INBOX_BADGE_CHANGED'`, [b.id]);
    const final = (s: typeof first) => s.events.at(-1)?.inboxBadgeChanged.cursor === seq;
    await until('the final update', () => final(first) && final(second));
    expect(first.events.at(-1)!.inboxBadgeChanged.badge.pendingRequestCount).toBe(6);
    // Six changes: the first at once, the rest as one after the window.
    expect(first.events.length).toBeLessThanOrEqual(2);
    expect(second.events.map((e) => e.inboxBadgeChanged)).toEqual(first.events.map((e) => e.inboxBadgeChanged));
    await Promise.all([first.close(), second.close()]);
  });
});
