import { startTestApp, codeOf, birthDateForAge, type TestApp, type TestUser } from '../support/app';
import {
  AcceptMessageRequestDocument,
  AcceptMessageRequestsDocument,
  ConversationByIdDocument,
  DeleteMessageRequestDocument,
  EventsDocument,
  FollowDocument,
  HiddenMessageRequestsDocument,
  InboxBadgeDocument,
  MarkNotificationsReadDocument,
  MessageButtonDocument,
  MessageRequestByIdDocument,
  MessageRequestsDocument,
  NotificationsDocument,
  OnInboxBadgeChangedDocument,
  OnMessageRequestAcceptedDocument,
  OnMessageRequestReceivedDocument,
  RequestQuotaDocument,
  SendMessageRequestDocument,
  SentMessageRequestsDocument,
  WithdrawMessageRequestDocument,
  BlockUserDocument,
  OnMessageReceivedDocument,
  UpdateMessagingSettingsDocument,
} from '../generated/graphql';

let t: TestApp;
beforeAll(async () => {
  // The per-second send limit has its own tests; here it must not mask the daily limit.
  t = await startTestApp({ DAILY_MESSAGE_REQUEST_LIMIT: '20', MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000' });
});
afterAll(() => t.close());
afterEach(() => t.clock.reset());

const send = (from: TestUser, to: { id: string }, text = 'hi there', clientMessageId?: string) =>
  t.gql(SendMessageRequestDocument, { input: { recipientId: to.id, text, clientMessageId } }, from.token);

/** Rows the API could have written for this pair: nothing must change on a refusal. */
async function footprint(a: TestUser, b: TestUser) {
  const [row] = await t.query<{ requests: number; messages: number; notifications: number; events: number; conversations: number }>(
    `SELECT (SELECT count(*)::int FROM message_requests WHERE sender_id IN ($1,$2) OR recipient_id IN ($1,$2)) AS requests,
            (SELECT count(*)::int FROM messages WHERE sender_id IN ($1,$2)) AS messages,
            (SELECT count(*)::int FROM notifications WHERE user_id IN ($1,$2)) AS notifications,
            (SELECT count(*)::int FROM events WHERE user_id IN ($1,$2)) AS events,
            (SELECT count(*)::int FROM conversations WHERE user_low_id IN ($1,$2) OR user_high_id IN ($1,$2)) AS conversations`,
    [a.id, b.id],
  );
  return row;
}

async function expectRefused(from: TestUser, to: TestUser, code: string, text = 'hi there') {
  const before = await footprint(from, to);
  const res = await send(from, to, text);
  expect(codeOf(res)).toBe(code);
  expect(res.status).toBeLessThan(500);
  expect(await footprint(from, to)).toEqual(before);
  return res;
}

describe('sendMessageRequest: each rule over HTTP, nothing written', () => {
  it('1 UNAUTHENTICATED', async () => {
    const b = await t.makeUser();
    const res = await t.gql(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi' } });
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
  });

  it('2 NOT_FOUND for an unknown or malformed id, CANNOT_MESSAGE_SELF for oneself', async () => {
    const a = await t.makeUser();
    expect(codeOf(await send(a, { id: '00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
    expect(codeOf(await send(a, { id: "1' OR 1=1 --" }))).toBe('NOT_FOUND');
    await expectRefused(a, a, 'CANNOT_MESSAGE_SELF');
  });

  it('3 MESSAGING_BANNED with until', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const until = new Date(Date.now() + 86_400_000);
    await t.query(`INSERT INTO messaging_bans (user_id, until, source) VALUES ($1, $2, 'MODERATOR')`, [a.id, until]);
    const res = await expectRefused(a, b, 'MESSAGING_BANNED');
    expect(res.errors![0].extensions!.until).toBe(until.toISOString());
  });

  it('4 SENDER_UNDER_MINIMUM_AGE, lifted on the 16th birthday', async () => {
    const a = await t.makeUser({ birthDate: birthDateForAge(16, new Date(), -1), policy: 'NOBODY' });
    const b = await t.makeUser();
    const res = await expectRefused(a, b, 'SENDER_UNDER_MINIMUM_AGE');
    expect(res.errors![0].message).toMatch(/under 16/);
    t.clock.advance(2 * 86_400_000);
    // 16–17 start with NOBODY, which is off both ways: the birthday unlocks the setting.
    await expectRefused(a, b, 'OWN_MESSAGING_DISABLED');
    await t.ok(UpdateMessagingSettingsDocument, { input: { directMessagePolicy: 'FOLLOWING' } }, a.token);
    expect((await send(a, b)).errors).toBeUndefined();
  });

  it('5 and 6: a minor recipient and a blocking recipient get the same generic answer', async () => {
    const a = await t.makeUser();
    const minor = await t.makeUser({ birthDate: birthDateForAge(15), policy: 'NOBODY' });
    const blocker = await t.makeUser();
    const blocked = await t.makeUser();
    await t.ok(BlockUserDocument, { userId: a.id }, blocker.token);
    await t.ok(BlockUserDocument, { userId: blocked.id }, a.token);
    const r1 = await expectRefused(a, minor, 'RECIPIENT_UNAVAILABLE');
    const r2 = await expectRefused(a, blocker, 'RECIPIENT_UNAVAILABLE');
    const r3 = await expectRefused(a, blocked, 'RECIPIENT_UNAVAILABLE');
    expect(r1.errors![0]).toEqual(r2.errors![0]);
    expect(r2.errors![0]).toEqual(r3.errors![0]);
  });

  it('7 NOBODY answers as 5 and 6 do (SPEC §8: no oracle between messages off, a block and age)', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser({ policy: 'NOBODY' })];
    const res = await expectRefused(a, b, 'RECIPIENT_UNAVAILABLE');
    expect(res.errors![0].message).toBe("You can't message this account");
  });

  it('8 NOT_FOLLOWED_BY_RECIPIENT for FOLLOWING and for verified recipients, until they follow', async () => {
    const a = await t.makeUser();
    const following = await t.makeUser({ policy: 'FOLLOWING' });
    const star = await t.makeUser({ verified: true });
    for (const b of [following, star]) {
      const res = await expectRefused(a, b, 'NOT_FOLLOWED_BY_RECIPIENT');
      expect(res.errors![0].message).toBe("Messages cannot be sent since this user isn't following you.");
      await t.ok(FollowDocument, { userId: a.id }, b.token);
      expect((await send(a, b)).errors).toBeUndefined();
    }
  });

  it('9 ALREADY_CONNECTED with the conversation id', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello' } }, a.token);
    await t.ok(AcceptMessageRequestDocument, { id: sent.sendMessageRequest.id }, b.token);
    const res = await expectRefused(a, b, 'ALREADY_CONNECTED');
    expect(res.errors![0].extensions!.conversationId).toBe(sent.sendMessageRequest.conversation.id);
    await expectRefused(b, a, 'ALREADY_CONNECTED');
  });

  it('10 REQUEST_ALREADY_PENDING', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello' } }, a.token);
    await expectRefused(a, b, 'REQUEST_ALREADY_PENDING');
  });

  it('11 DAILY_REQUEST_LIMIT_REACHED with retryAfter, and requestQuota agrees', async () => {
    const a = await t.makeUser();
    for (let i = 0; i < 20; i++) expect((await send(a, await t.makeUser())).errors).toBeUndefined();
    const quota = await t.ok(RequestQuotaDocument, {}, a.token);
    expect(quota.requestQuota).toMatchObject({ limit: 20, used: 20, remaining: 0 });
    const b = await t.makeUser();
    const res = await expectRefused(a, b, 'DAILY_REQUEST_LIMIT_REACHED');
    const retryAfter = res.errors![0].extensions!.retryAfter as number;
    expect(retryAfter).toBeGreaterThan(86_000);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    t.clock.advance(86_400_000 + 1000);
    expect((await send(a, b)).errors).toBeUndefined();
  });

  it.each([
    ['empty', '   '],
    ['1001 characters', 'x'.repeat(1001)],
    ['a NUL', 'a\u0000b'],
    ['a control character', 'a\u0007b'],
  ])('12 BAD_USER_INPUT for %s text', async (_n, text) => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await expectRefused(a, b, 'BAD_USER_INPUT', text);
  });

  it('stores emoji and right-to-left text as sent', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const text = ' مرحبا 👋🏽\nsecond line ';
    const res = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text } }, a.token);
    expect(res.sendMessageRequest.text).toBe(text);
  });
});

describe('idempotency and crossing requests', () => {
  it('the same clientMessageId returns the same request; other text with it is refused', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const first = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hey', clientMessageId: 'k1' } }, a.token);
    const again = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hey', clientMessageId: 'k1' } }, a.token);
    expect(again.sendMessageRequest.id).toBe(first.sendMessageRequest.id);
    // The same id in capitals is the same recipient.
    const shouted = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id.toUpperCase(), text: 'hey', clientMessageId: 'k1' } }, a.token);
    expect(shouted.sendMessageRequest.id).toBe(first.sendMessageRequest.id);
    const before = await footprint(a, b);
    const reused = await send(a, b, 'different', 'k1');
    expect(codeOf(reused)).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await footprint(a, b)).toEqual(before);
  });

  it('B sending to A while A’s request is pending accepts it: one open conversation', async () => {
    // A accepts requests only from people it follows, and does not follow B: crossing
    // passes that rule, since A asked first.
    const [a, b] = [await t.makeUser({ policy: 'FOLLOWING' }), await t.makeUser()];
    const fromA = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi B' } }, a.token);
    const liveForA = await t.subscribe(OnMessageReceivedDocument, {}, a.token);
    const fromB = await t.ok(SendMessageRequestDocument, { input: { recipientId: a.id, text: 'hi A' } }, b.token);
    // B's words arrive live to A, as any message in the now open conversation would.
    expect((await liveForA.next()).messageReceived.message).toMatchObject({ text: 'hi A', sender: { id: b.id } });
    await liveForA.close();
    expect(fromB.sendMessageRequest.id).toBe(fromA.sendMessageRequest.id);
    expect(fromB.sendMessageRequest.status).toBe('ACCEPTED');
    const [{ n, status }] = await t.query<{ n: number; status: string }>(
      `SELECT count(*)::int AS n, max(status) AS status FROM conversations WHERE id = $1`,
      [fromA.sendMessageRequest.conversation.id],
    );
    expect(n).toBe(1);
    expect(status).toBe('OPEN');
  });
  it('a send that accepted a crossing request answers its retry the same, writing nothing more', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const fromA = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi B' } }, a.token);
    const input = { recipientId: a.id, text: 'hi A', clientMessageId: 'cross-1' };
    const first = await t.ok(SendMessageRequestDocument, { input }, b.token);
    expect(first.sendMessageRequest).toMatchObject({ id: fromA.sendMessageRequest.id, status: 'ACCEPTED' });
    const before = await footprint(a, b);
    const retry = await t.ok(SendMessageRequestDocument, { input }, b.token);
    expect(retry.sendMessageRequest).toMatchObject({ id: fromA.sendMessageRequest.id, status: 'ACCEPTED' });
    expect(await footprint(a, b)).toEqual(before);
    // The same key with other words is another send: refused, as for any request.
    expect(codeOf(await send(b, a, 'something else', 'cross-1'))).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});

describe('races against PostgreSQL', () => {
  it('20 parallel identical sends make exactly one request', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const results = await Promise.all(Array.from({ length: 20 }, () => send(a, b, 'same')));
    expect(results.filter((r) => !r.errors).length).toBe(1);
    expect(results.filter((r) => codeOf(r) === 'REQUEST_ALREADY_PENDING').length).toBe(19);
    const [{ n }] = await t.query<{ n: number }>('SELECT count(*)::int AS n FROM message_requests WHERE sender_id = $1', [a.id]);
    expect(n).toBe(1);
  });

  it('20 parallel sends with one clientMessageId all get the same request', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const results = await Promise.all(Array.from({ length: 20 }, () => send(a, b, 'same', 'one-key')));
    const ids = new Set(results.map((r) => r.data?.sendMessageRequest.id));
    expect(results.every((r) => !r.errors)).toBe(true);
    expect(ids.size).toBe(1);
  });

  it('50 parallel sends to different recipients with a limit of 20: exactly 20 succeed', async () => {
    const a = await t.makeUser();
    const recipients = await Promise.all(Array.from({ length: 50 }, () => t.makeUser()));
    const results = await Promise.all(recipients.map((b) => send(a, b)));
    expect(results.filter((r) => !r.errors).length).toBe(20);
    expect(results.filter((r) => codeOf(r) === 'DAILY_REQUEST_LIMIT_REACHED').length).toBe(30);
    const [{ n }] = await t.query<{ n: number }>('SELECT count(*)::int AS n FROM message_requests WHERE sender_id = $1', [a.id]);
    expect(n).toBe(20);
  });

  it('accept and delete racing end in one consistent outcome', async () => {
    for (let i = 0; i < 5; i++) {
      const [a, b] = [await t.makeUser(), await t.makeUser()];
      const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'race' } }, a.token);
      const id = sent.sendMessageRequest.id;
      const [acc, del] = await Promise.all([
        t.gql(AcceptMessageRequestDocument, { id }, b.token),
        t.gql(DeleteMessageRequestDocument, { id }, b.token),
      ]);
      const [row] = await t.query<{ status: string; deleted_at: Date | null; conv: string }>(
        `SELECT r.status, r.deleted_at, c.status AS conv FROM message_requests r JOIN conversations c ON c.id = r.conversation_id WHERE r.id = $1`,
        [id],
      );
      expect(del.errors).toBeUndefined();
      if (acc.errors) {
        // Delete won: the request is gone from the folder and nothing opened.
        expect(codeOf(acc)).toBe('NOT_FOUND');
        expect(row).toMatchObject({ status: 'PENDING', conv: 'REQUEST' });
        expect(row.deleted_at).not.toBeNull();
      } else {
        // Accept won: the conversation is open (and the delete hid it from B's inbox).
        expect(row).toMatchObject({ status: 'ACCEPTED', conv: 'OPEN' });
      }
    }
  });
});

describe('the Requests folder and the lifecycle', () => {
  it('lists pending requests newest first with the sender preview and an exact count', async () => {
    const b = await t.makeUser();
    const senders = [await t.makeUser({ displayName: 'First' }), await t.makeUser({ displayName: 'Second', verified: false })];
    for (const s of senders) {
      await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: `from ${s.username}` } }, s.token);
      t.clock.advance(1000);
    }
    const folder = await t.ok(MessageRequestsDocument, { first: 1 }, b.token);
    expect(folder.messageRequests.totalCount).toBe(2);
    expect(folder.messageRequests.edges[0].node).toMatchObject({
      status: 'PENDING',
      text: `from ${senders[1].username}`,
      sender: { username: senders[1].username, displayName: 'Second', avatarUrl: null, verified: false },
    });
    const next = await t.ok(MessageRequestsDocument, { first: 1, after: folder.messageRequests.pageInfo.endCursor }, b.token);
    expect(next.messageRequests.edges[0].node.sender.id).toBe(senders[0].id);
    expect(next.messageRequests.pageInfo.hasNextPage).toBe(false);
    const badge = await t.ok(InboxBadgeDocument, {}, b.token);
    expect(badge.inboxBadge).toMatchObject({ pendingRequestCount: 2, unreadNotificationCount: 2, showDot: true });
  });

  it('pages the folder both ways with opaque cursors (first/after, last/before)', async () => {
    const b = await t.makeUser();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await t.makeUser();
      ids.unshift((await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: `n${i}` } }, s.token)).sendMessageRequest.id);
      t.clock.advance(1000);
    }
    const page = (v: Record<string, unknown>) => t.ok(MessageRequestsDocument, v, b.token).then((r) => r.messageRequests);
    const first = await page({ first: 2 });
    expect(first.edges.map((e) => e.node.id)).toEqual(ids.slice(0, 2));
    const second = await page({ first: 2, after: first.pageInfo.endCursor });
    expect(second.edges.map((e) => e.node.id)).toEqual(ids.slice(2, 4));
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const last = await page({ last: 2 });
    expect(last.edges.map((e) => e.node.id)).toEqual(ids.slice(3, 5));
    const before = await page({ last: 2, before: last.pageInfo.startCursor });
    expect(before.edges.map((e) => e.node.id)).toEqual(ids.slice(1, 3));
    expect(before.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('accept: recipient only, idempotent, opens the conversation and notifies the sender', async () => {
    const [a, b, c] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello' } }, a.token);
    const id = sent.sendMessageRequest.id;
    expect(codeOf(await t.gql(AcceptMessageRequestDocument, { id }, c.token))).toBe('NOT_FOUND');
    expect(codeOf(await t.gql(AcceptMessageRequestDocument, { id }, a.token))).toBe('FORBIDDEN');
    const first = await t.ok(AcceptMessageRequestDocument, { id }, b.token);
    const second = await t.ok(AcceptMessageRequestDocument, { id }, b.token);
    expect(second.acceptMessageRequest.id).toBe(first.acceptMessageRequest.id);
    const sentView = await t.ok(SentMessageRequestsDocument, {}, a.token);
    expect(sentView.sentMessageRequests.edges[0].node.status).toBe('ACCEPTED');
    const notes = await t.ok(NotificationsDocument, {}, a.token);
    expect(notes.notifications.edges.map((e) => e.node.type)).toEqual(['MESSAGE_REQUEST_ACCEPTED']);
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.totalCount).toBe(0);
  });

  it('delete is invisible to the sender: its whole view is unchanged', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello' } }, a.token);
    const id = sent.sendMessageRequest.id;
    const senderView = async () => ({
      sent: await t.ok(SentMessageRequestsDocument, {}, a.token),
      one: await t.ok(MessageRequestByIdDocument, { id }, a.token),
      notes: await t.ok(NotificationsDocument, {}, a.token),
      events: await t.ok(EventsDocument, {}, a.token),
      badge: await t.ok(InboxBadgeDocument, {}, a.token),
      button: await t.ok(MessageButtonDocument, { username: b.username }, a.token),
      again: codeOf(await send(a, b)),
    });
    const before = await senderView();
    const accepted = await t.subscribe(OnMessageRequestAcceptedDocument, {}, a.token);
    expect(await t.ok(DeleteMessageRequestDocument, { id }, b.token)).toEqual({ deleteMessageRequest: true });
    const after = await senderView();
    expect(after).toEqual(before);
    expect(before.one.messageRequest.status).toBe('PENDING');
    expect(before.again).toBe('REQUEST_ALREADY_PENDING');
    // Gone from the recipient's side.
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.totalCount).toBe(0);
    expect(codeOf(await t.gql(MessageRequestByIdDocument, { id }, b.token))).toBe('NOT_FOUND');
    // No event reached the sender: a later accept of another request proves the socket works.
    const b2 = await t.makeUser();
    const other = await t.ok(SendMessageRequestDocument, { input: { recipientId: b2.id, text: 'x' } }, a.token);
    await t.ok(AcceptMessageRequestDocument, { id: other.sendMessageRequest.id }, b2.token);
    const event = await accepted.next();
    expect(event.messageRequestAccepted.request.id).toBe(other.sendMessageRequest.id);
    expect(accepted.events).toHaveLength(1);
    await accepted.close();
  });

  it('deleted and ignored requests expire alike after the TTL; the sender may then ask again', async () => {
    const [a, b, c] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const toB = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello' } }, a.token);
    const toC = await t.ok(SendMessageRequestDocument, { input: { recipientId: c.id, text: 'hello' } }, a.token);
    await t.ok(DeleteMessageRequestDocument, { id: toB.sendMessageRequest.id }, b.token);
    const ignoredId = toC.sendMessageRequest.id;
    expect((await t.ok(MessageRequestByIdDocument, { id: ignoredId }, c.token)).messageRequest.text).toBe('hello');
    t.clock.advance(30 * 86_400_000 + 1000);
    const sent = await t.ok(SentMessageRequestsDocument, {}, a.token);
    expect(sent.sentMessageRequests.edges.map((e) => e.node.status)).toEqual(['EXPIRED', 'EXPIRED']);
    expect((await t.ok(MessageRequestsDocument, {}, c.token)).messageRequests.totalCount).toBe(0);
    // Aged out, the request is gone for its recipient: its text and its conversation too.
    expect(codeOf(await t.gql(MessageRequestByIdDocument, { id: ignoredId }, c.token))).toBe('NOT_FOUND');
    expect(codeOf(await t.gql(ConversationByIdDocument, { id: toC.sendMessageRequest.conversation.id }, c.token))).toBe('NOT_FOUND');
    const notes = await t.ok(NotificationsDocument, {}, c.token);
    expect(notes.notifications.edges.map((e) => e.node.request)).toEqual([null]);
    expect((await t.ok(MessageRequestByIdDocument, { id: ignoredId }, a.token)).messageRequest.status).toBe('EXPIRED');
    // A stale folder may still delete it, and a block asked with the delete is not lost.
    expect((await t.ok(DeleteMessageRequestDocument, { id: ignoredId, block: true }, c.token)).deleteMessageRequest).toBe(true);
    expect(await t.query('SELECT count(*)::int AS n FROM blocks WHERE blocker_id = $1 AND blocked_id = $2', [c.id, a.id])).toEqual([{ n: 1 }]);
    expect(codeOf(await t.gql(MessageRequestByIdDocument, { id: ignoredId }, c.token))).toBe('NOT_FOUND');
    expect((await send(a, b, 'second try')).errors).toBeUndefined();
    expect(codeOf(await send(a, c, 'second try'))).toBe('RECIPIENT_UNAVAILABLE');
  });

  it('withdraw: sender only, leaves the folder and the badge drops', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'oops' } }, a.token);
    const id = sent.sendMessageRequest.id;
    expect(codeOf(await t.gql(WithdrawMessageRequestDocument, { id }, b.token))).toBe('FORBIDDEN');
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toMatchObject({ pendingRequestCount: 1, showDot: true });
    const res = await t.ok(WithdrawMessageRequestDocument, { id }, a.token);
    expect(res.withdrawMessageRequest.status).toBe('WITHDRAWN');
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toMatchObject({ pendingRequestCount: 0, unreadNotificationCount: 0, showDot: false });
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.totalCount).toBe(0);
  });

  it('bulk accept and delete up to 100, reporting ids that are not the viewer’s', async () => {
    const b = await t.makeUser();
    const senders = await Promise.all(Array.from({ length: 4 }, () => t.makeUser()));
    const ids: string[] = [];
    for (const s of senders) ids.push((await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi' } }, s.token)).sendMessageRequest.id);
    const stranger = '00000000-0000-4000-8000-000000000001';
    const accepted = await t.ok(AcceptMessageRequestsDocument, { ids: [ids[0], ids[1], stranger] }, b.token);
    expect(accepted.acceptMessageRequests).toEqual({ succeeded: [ids[0], ids[1]], notFound: [stranger] });
    const tooMany = await t.gql(AcceptMessageRequestsDocument, { ids: Array.from({ length: 101 }, () => stranger) }, b.token);
    expect(codeOf(tooMany)).toBe('BAD_USER_INPUT');
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.totalCount).toBe(2);
  });

  it('delete with block blocks the sender and the request stays gone after unblocking', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi' } }, a.token);
    await t.ok(DeleteMessageRequestDocument, { id: sent.sendMessageRequest.id, block: true }, b.token);
    expect(codeOf(await send(a, b, 'again'))).toBe('RECIPIENT_UNAVAILABLE');
    const [{ n }] = await t.query<{ n: number }>('SELECT count(*)::int AS n FROM blocks WHERE blocker_id = $1 AND blocked_id = $2', [b.id, a.id]);
    expect(n).toBe(1);
  });

  it('blocking the sender takes the pending request out of the folder, and off the red dot', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi' } }, a.token);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toMatchObject({ pendingRequestCount: 1, showDot: true });
    await t.ok(BlockUserDocument, { userId: a.id }, b.token);
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.totalCount).toBe(0);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toMatchObject({ pendingRequestCount: 0, showDot: false });
  });

  it('markNotificationsRead clears the dot but not the pending count', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi' } }, a.token);
    expect(await t.ok(MarkNotificationsReadDocument, {}, b.token)).toEqual({ markNotificationsRead: 1 });
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toMatchObject({ pendingRequestCount: 1, showDot: false });
  });

  it('messageRequest(id) is visible to its two parties only', async () => {
    const [a, b, c] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'secret' } }, a.token);
    const id = sent.sendMessageRequest.id;
    expect((await t.ok(MessageRequestByIdDocument, { id }, b.token)).messageRequest.text).toBe('secret');
    const res = await t.gql(MessageRequestByIdDocument, { id }, c.token);
    expect(codeOf(res)).toBe('NOT_FOUND');
    expect(JSON.stringify(res)).not.toContain('secret');
  });

  it('the Message button agrees with the send', async () => {
    const a = await t.makeUser();
    const open = await t.makeUser();
    const nobody = await t.makeUser({ policy: 'NOBODY' });
    const following = await t.makeUser({ policy: 'FOLLOWING' });
    const state = async (u: TestUser) => (await t.ok(MessageButtonDocument, { username: u.username }, a.token)).user!.messageButton;
    expect(await state(open)).toMatchObject({ state: 'SEND_REQUEST' });
    expect(await state(nobody)).toMatchObject({ state: 'UNAVAILABLE', reason: 'RECIPIENT_UNAVAILABLE' });
    expect(await state(following)).toMatchObject({ state: 'UNAVAILABLE', reason: 'NOT_FOLLOWED_BY_RECIPIENT', explanation: "Messages cannot be sent since this user isn't following you." });
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: open.id, text: 'hi' } }, a.token);
    expect(await state(open)).toMatchObject({ state: 'REQUEST_PENDING' });
    await t.ok(AcceptMessageRequestDocument, { id: sent.sendMessageRequest.id }, open.token);
    expect(await state(open)).toMatchObject({ state: 'MESSAGE' });
  });
  it('a page of profiles shows each its own Message button, for the same statements at any page size', async () => {
    const a = await t.makeUser();
    const star = await t.makeUser();
    const fans = {
      open: await t.makeUser(),
      nobody: await t.makeUser({ policy: 'NOBODY' }),
      following: await t.makeUser({ policy: 'FOLLOWING' }),
      pending: await t.makeUser(),
    };
    await t.ok(SendMessageRequestDocument, { input: { recipientId: fans.pending.id, text: 'hi' } }, a.token);
    for (const fan of Object.values(fans)) await t.ok(FollowDocument, { userId: star.id }, fan.token);
    const page = async (first: number) => {
      t.sql.reset();
      const data = await t.ok<{ user: { followers: { edges: Array<{ node: { username: string; messageButton: unknown } }> } } }, unknown>(
        `query($u: String!, $first: Int) { user(username: $u) { followers(first: $first) { edges { node { username messageButton { state reason explanation } } } } } }`,
        { u: star.username, first },
        a.token,
      );
      return { statements: t.sql.count, buttons: new Map(data.user.followers.edges.map((e) => [e.node.username, e.node.messageButton])) };
    };
    const two = await page(2);
    const all = await page(4);
    expect(two.buttons.size).toBe(2);
    expect(all.statements).toBe(two.statements);
    // Each profile's button on the page is the one its own profile shows.
    for (const fan of Object.values(fans)) {
      expect(all.buttons.get(fan.username)).toEqual((await t.ok(MessageButtonDocument, { username: fan.username }, a.token)).user!.messageButton);
    }
    expect(new Set([...all.buttons.values()].map((b) => JSON.stringify(b))).size).toBe(4);
  });
});

describe('hidden requests', () => {
  it('new accounts and links go to hidden requests: no notification, no dot, no event; the sender cannot tell', async () => {
    const b = await t.makeUser();
    const fresh = await t.makeUser({ ageHours: 1 });
    const linker = await t.makeUser();
    const received = await t.subscribe(OnMessageRequestReceivedDocument, {}, b.token);
    const r1 = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello' } }, fresh.token);
    const r2 = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'see https://spam.example/x' } }, linker.token);
    expect(r1.sendMessageRequest.status).toBe('PENDING');
    expect(r2.sendMessageRequest.status).toBe('PENDING');
    const hidden = await t.ok(HiddenMessageRequestsDocument, {}, b.token);
    expect(hidden.hiddenMessageRequests.totalCount).toBe(2);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toEqual({
      pendingRequestCount: 0,
      unreadConversationCount: 0,
      unreadNotificationCount: 0,
      showDot: false,
    });
    // A visible request afterwards arrives first on the socket: the hidden ones sent nothing.
    const normal = await t.makeUser();
    const r3 = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi!' } }, normal.token);
    expect((await received.next()).messageRequestReceived.request.id).toBe(r3.sendMessageRequest.id);
    await received.close();
    // Same actions: accept works on a hidden request.
    await t.ok(AcceptMessageRequestDocument, { id: r1.sendMessageRequest.id }, b.token);
  });
});

describe('subscriptions', () => {
  it('the recipient receives messageRequestReceived and the badge; a third account does not', async () => {
    const [a, b, c] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const forB = await t.subscribe(OnMessageRequestReceivedDocument, {}, b.token);
    const badgeB = await t.subscribe(OnInboxBadgeChangedDocument, {}, b.token);
    const forC = await t.subscribe(OnMessageRequestReceivedDocument, {}, c.token);
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'ping' } }, a.token);
    const event = await forB.next();
    expect(event.messageRequestReceived.request).toMatchObject({ id: sent.sendMessageRequest.id, text: 'ping', sender: { id: a.id } });
    expect((await badgeB.next()).inboxBadgeChanged.badge).toEqual({ pendingRequestCount: 1, showDot: true });
    // C's socket is alive (it gets its own request next) and got nothing of B's.
    const toC = await t.ok(SendMessageRequestDocument, { input: { recipientId: c.id, text: 'for c' } }, a.token);
    expect((await forC.next()).messageRequestReceived.request.id).toBe(toC.sendMessageRequest.id);
    expect(forC.events).toHaveLength(1);
    // Catch-up: the event log holds the same event under the same cursor.
    const log = await t.ok(EventsDocument, {}, b.token);
    expect(log.events.map((e) => e.cursor)).toContain(event.messageRequestReceived.cursor);
    for (const s of [forB, badgeB, forC]) await s.close();
  });

  it('the sender receives messageRequestAccepted on accept', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const accepted = await t.subscribe(OnMessageRequestAcceptedDocument, {}, a.token);
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'ping' } }, a.token);
    await t.ok(AcceptMessageRequestDocument, { id: sent.sendMessageRequest.id }, b.token);
    const event = await accepted.next();
    expect(event.messageRequestAccepted.request).toEqual({ id: sent.sendMessageRequest.id, status: 'ACCEPTED' });
    await accepted.close();
  });

  /** Sends over the graphql-ws socket (graphql-ws runs mutations too). */
  async function sendOverWs(from: TestUser, to: { id: string }, text: string) {
    const client = t.wsClient(from.token);
    return new Promise<{ data?: unknown; errors?: Array<{ extensions?: Record<string, unknown>; message: string }> }>((resolve, reject) => {
      client.subscribe(
        { query: 'mutation($id: ID!, $text: String!) { sendMessageRequest(input: { recipientId: $id, text: $text }) { id } }', variables: { id: to.id, text } },
        { next: (v) => resolve(v as never), error: reject, complete: () => undefined },
      );
    });
  }

  it.each<[string, string, () => Promise<[TestUser, TestUser, string?]>]>([
    ['CANNOT_MESSAGE_SELF', 'self', async () => { const a = await t.makeUser(); return [a, a]; }],
    ['MESSAGING_BANNED', 'banned', async () => {
      const [a, b] = [await t.makeUser(), await t.makeUser()];
      await t.query(`INSERT INTO messaging_bans (user_id, until, source) VALUES ($1, NULL, 'MODERATOR')`, [a.id]);
      return [a, b];
    }],
    ['SENDER_UNDER_MINIMUM_AGE', 'young sender', async () => [await t.makeUser({ birthDate: birthDateForAge(15), policy: 'NOBODY' }), await t.makeUser()]],
    ['RECIPIENT_UNAVAILABLE', 'minor recipient', async () => [await t.makeUser(), await t.makeUser({ birthDate: birthDateForAge(15), policy: 'NOBODY' })]],
    ['RECIPIENT_UNAVAILABLE', 'blocked', async () => {
      const [a, b] = [await t.makeUser(), await t.makeUser()];
      await t.ok(BlockUserDocument, { userId: a.id }, b.token);
      return [a, b];
    }],
    ['RECIPIENT_UNAVAILABLE', 'NOBODY', async () => [await t.makeUser(), await t.makeUser({ policy: 'NOBODY' })]],
    ['ALREADY_CONNECTED', 'connected', async () => {
      const [a, b] = [await t.makeUser(), await t.makeUser()];
      const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello' } }, a.token);
      await t.ok(AcceptMessageRequestDocument, { id: sent.sendMessageRequest.id }, b.token);
      return [a, b];
    }],
    ['REQUEST_ALREADY_PENDING', 'pending', async () => {
      const [a, b] = [await t.makeUser(), await t.makeUser()];
      await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello' } }, a.token);
      return [a, b];
    }],
    ['DAILY_REQUEST_LIMIT_REACHED', 'over the limit', async () => {
      const a = await t.makeUser();
      for (let i = 0; i < 20; i++) await t.ok(SendMessageRequestDocument, { input: { recipientId: (await t.makeUser()).id, text: 'hi' } }, a.token);
      return [a, await t.makeUser()];
    }],
    ['BAD_USER_INPUT', 'empty text', async () => [await t.makeUser(), await t.makeUser(), '  ']],
  ])('over WebSocket: %s (%s), nothing written', async (code, _name, setup) => {
    const [a, b, text] = await setup();
    const before = await footprint(a, b);
    const result = await sendOverWs(a, b, text ?? 'hello there');
    expect(result.errors![0].extensions!.code).toBe(code);
    expect(await footprint(a, b)).toEqual(before);
  });

  it('over WebSocket, a rule failure carries the same code as over HTTP', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser({ policy: 'FOLLOWING' })];
    const client = t.wsClient(a.token);
    const result = await new Promise<{ errors?: Array<{ extensions?: { code?: string }; message: string }> }>((resolve, reject) => {
      client.subscribe(
        { query: 'mutation($id: ID!) { sendMessageRequest(input: { recipientId: $id, text: "hi" }) { id } }', variables: { id: b.id } },
        { next: (v) => resolve(v as never), error: reject, complete: () => undefined },
      );
    });
    expect(result.errors![0].extensions!.code).toBe('NOT_FOLLOWED_BY_RECIPIENT');
    expect(result.errors![0].message).toBe("Messages cannot be sent since this user isn't following you.");
    // The same send over HTTP answers with the same error, word for word.
    const overHttp = await send(a, b, 'hi');
    expect(overHttp.errors![0]).toMatchObject({ message: result.errors![0].message, extensions: result.errors![0].extensions });
  });
});
