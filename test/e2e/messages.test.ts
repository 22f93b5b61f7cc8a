import { randomUUID } from 'node:crypto';
import { codeOf, startTestApp, type TestApp, type TestUser } from '../support/app';
import { openConversation, writeSnapshot } from '../support/conversations';
import { holdingPair, holdingTransaction, waitingOnPairLock, waitingOnRowLock } from '../support/locks';
import { runInTransaction } from '../../src/db/transaction';
import { EventType } from '../../src/modules/notifications/events.service';
import {
  BlockUserDocument,
  ConversationByIdDocument,
  DeleteConversationDocument,
  InboxBadgeDocument,
  MarkConversationSeenDocument,
  MessagesDocument,
  OnMessageReceivedDocument,
  OnMessageSeenDocument,
  SendMessageDocument,
  UpdateMessagingSettingsDocument,
} from '../generated/graphql';

let t: TestApp;
beforeAll(async () => {
  // The races below fire many sends at once; the per-account send rate limit is tested elsewhere.
  t = await startTestApp({ MESSAGE_RATE_BURST: '100000', MESSAGE_RATE_PER_SECOND: '100000' });
});
afterAll(() => t.close());

async function pair(): Promise<[TestUser, TestUser, string]> {
  const a = await t.makeUser();
  const b = await t.makeUser();
  return [a, b, await openConversation(t, a, b)];
}

const send = (u: TestUser, conversationId: string, text: string, clientMessageId?: string) =>
  t.gql(SendMessageDocument, { input: { conversationId, text, clientMessageId } }, u.token);

/** blocker blocks blocked in a transaction held open with the pair's lock; `commit()` lets it finish. */
const blockHoldingPair = (blocker: TestUser, blocked: TestUser) =>
  holdingPair(t, blocker, blocked, (tx) => t.app.services.relationships.blockInTx(tx, blocker.id, blocked.id));

async function history(u: TestUser, conversationId: string, last = 100) {
  const data = await t.ok(MessagesDocument, { conversationId, last }, u.token);
  return data.messages.edges.map((e) => e.node);
}

describe('sendMessage refusals (each writes nothing)', () => {
  it('refuses without a token', async () => {
    const [, , c] = await pair();
    const before = await writeSnapshot(t, c);
    const res = await t.gql(SendMessageDocument, { input: { conversationId: c, text: 'hi' } });
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
    expect(await writeSnapshot(t, c)).toEqual(before);
  });

  it('answers NOT_FOUND to a non-participant, exactly as for a missing or malformed id', async () => {
    const [, , c] = await pair();
    const outsider = await t.makeUser();
    const before = await writeSnapshot(t, c);
    const answers = await Promise.all([send(outsider, c, 'hi'), send(outsider, randomUUID(), 'hi'), send(outsider, 'not-an-id', 'hi')]);
    for (const res of answers) {
      expect(codeOf(res)).toBe('NOT_FOUND');
      expect(res.errors![0].message).toBe(answers[1].errors![0].message);
    }
    expect(await writeSnapshot(t, c)).toEqual(before);
  });

  it('refuses a banned sender with MESSAGING_BANNED and extensions.until', async () => {
    const [a, , c] = await pair();
    const until = new Date(t.clock.now().getTime() + 3600_000);
    await t.query(`INSERT INTO messaging_bans (user_id, until, source) VALUES ($1, $2, 'MODERATOR')`, [a.id, until]);
    const before = await writeSnapshot(t, c);
    const res = await send(a, c, 'hi');
    expect(codeOf(res)).toBe('MESSAGING_BANNED');
    expect(res.errors![0].extensions!.until).toBe(until.toISOString());
    expect(await writeSnapshot(t, c)).toEqual(before);
  });

  it('refuses with the generic RECIPIENT_UNAVAILABLE when the recipient turned messaging off, but history stays readable', async () => {
    const [a, b, c] = await pair();
    await t.ok(UpdateMessagingSettingsDocument, { input: { directMessagePolicy: 'NOBODY' } }, b.token);
    const before = await writeSnapshot(t, c);
    const res = await send(a, c, 'hi');
    // The same answer as a block (SPEC §8: no oracle).
    expect(codeOf(res)).toBe('RECIPIENT_UNAVAILABLE');
    expect(await writeSnapshot(t, c)).toEqual(before);
    expect((await history(a, c)).map((m) => m.text)).toEqual(['hello']);
    // Off is off both ways (SPEC §1): no one is left writing into a conversation that cannot answer.
    expect(codeOf(await send(b, c, 'still here'))).toBe('OWN_MESSAGING_DISABLED');
    expect(await writeSnapshot(t, c)).toEqual(before);
    expect((await history(b, c)).map((m) => m.text)).toEqual(['hello']);
  });

  it.each([
    ['empty text', '   ', 'text'],
    ['4001 characters', 'x'.repeat(4001), 'text'],
    ['a NUL character', 'a\u0000b', 'text'],
    ['a tab', 'a\tb', 'text'],
  ])('refuses %s with BAD_USER_INPUT', async (_name, text, field) => {
    const [a, , c] = await pair();
    const before = await writeSnapshot(t, c);
    const res = await send(a, c, text);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.field).toBe(field);
    expect(await writeSnapshot(t, c)).toEqual(before);
  });

  it('refuses a clientMessageId over 64 characters', async () => {
    const [a, , c] = await pair();
    const before = await writeSnapshot(t, c);
    const res = await send(a, c, 'hi', 'k'.repeat(65));
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.field).toBe('clientMessageId');
    expect(await writeSnapshot(t, c)).toEqual(before);
  });

  it('accepts 4000 characters of emoji and right-to-left text, stored as sent', async () => {
    const [a, , c] = await pair();
    const text = '\u200Fשלום 👋🏽\n' + '😀'.repeat(3990);
    const res = await send(a, c, text);
    expect(res.errors).toBeUndefined();
    expect(res.data!.sendMessage.text).toBe(text);
  });
});

describe('sendMessage', () => {
  it('works whether or not the two follow each other, and after both unfollow', async () => {
    const [a, b, c] = await pair();
    await t.query('INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2), ($2, $1)', [a.id, b.id]);
    expect((await send(b, c, 'following')).errors).toBeUndefined();
    await t.query('DELETE FROM follows WHERE follower_id IN ($1, $2)', [a.id, b.id]);
    expect((await send(a, c, 'unfollowed')).errors).toBeUndefined();
    expect((await send(b, c, 'still talking')).errors).toBeUndefined();
    expect((await history(b, c)).map((m) => m.text)).toEqual(['hello', 'following', 'unfollowed', 'still talking']);
  });

  it('after a block: history readable to both, new messages refused both ways with RECIPIENT_UNAVAILABLE', async () => {
    const [a, b, c] = await pair();
    await send(b, c, 'reply');
    await t.ok(BlockUserDocument, { userId: a.id }, b.token);
    const before = await writeSnapshot(t, c);
    for (const [sender] of [[a], [b]] as const) {
      const res = await send(sender, c, 'after block');
      expect(codeOf(res)).toBe('RECIPIENT_UNAVAILABLE');
      expect(res.errors![0].message).not.toMatch(/block/i);
    }
    expect(await writeSnapshot(t, c)).toEqual(before);
    expect((await history(a, c)).map((m) => m.text)).toEqual(['hello', 'reply']);
    expect((await history(b, c)).map((m) => m.text)).toEqual(['hello', 'reply']);
  });

  it('waits for a block that holds the pair, then refuses: nothing slips in before the block commits', async () => {
    const [a, b, c] = await pair();
    const block = await blockHoldingPair(b, a);
    let answered = false;
    const sending = send(a, c, 'racing the block').then((res) => ((answered = true), res));
    await waitingOnPairLock(t, () => answered);
    expect(answered).toBe(false);
    await block.commit();
    expect(codeOf(await sending)).toBe('RECIPIENT_UNAVAILABLE');
    expect((await history(b, c)).map((m) => m.text)).toEqual(['hello']);
  });

  it('is idempotent by clientMessageId: 10 parallel sends give one message and the same id to all', async () => {
    const [a, b, c] = await pair();
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 10 }, () => send(a, c, 'once', key)));
    for (const r of results) expect(r.errors).toBeUndefined();
    const ids = new Set(results.map((r) => r.data!.sendMessage.id));
    expect(ids.size).toBe(1);
    const [{ n }] = await t.query<{ n: string }>('SELECT count(*) AS n FROM messages WHERE client_message_id = $1', [key]);
    expect(Number(n)).toBe(1);
    expect((await history(b, c)).map((m) => m.text)).toEqual(['hello', 'once']);
    // Exactly one MESSAGE_RECEIVED for the recipient: the repeats wrote no events either.
    const [{ e }] = await t.query<{ e: string }>(`SELECT count(*) AS e FROM events WHERE user_id = $1 AND type = 'MESSAGE_RECEIVED'`, [b.id]);
    expect(Number(e)).toBe(1);

    const before = await writeSnapshot(t, c);
    const again = await send(a, c, 'once', key);
    expect(again.data!.sendMessage.id).toBe([...ids][0]);
    expect(again.data!.sendMessage.clientMessageId).toBe(key);
    const reused = await send(a, c, 'different text', key);
    expect(codeOf(reused)).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await writeSnapshot(t, c)).toEqual(before);
    // The key is the sender's: the recipient does not see it.
    expect((await history(b, c)).find((m) => m.id === [...ids][0])!.clientMessageId).toBeNull();
  });

  it('gives 100 messages sent concurrently by both participants one order, the same for both readers', async () => {
    const [a, b, c] = await pair();
    const sends = Array.from({ length: 100 }, (_, i) => send(i % 2 ? a : b, c, `m${i}`));
    const results = await Promise.all(sends);
    for (const r of results) expect(r.errors).toBeUndefined();
    const read = async (u: TestUser) => {
      const ids: string[] = [];
      let before: string | null | undefined;
      for (;;) {
        const page = await t.ok(MessagesDocument, { conversationId: c, last: 30, before }, u.token);
        ids.unshift(...page.messages.edges.map((e) => e.node.id));
        if (!page.messages.pageInfo.hasPreviousPage) break;
        before = page.messages.pageInfo.startCursor;
      }
      return ids;
    };
    const [forA, forB] = await Promise.all([read(a), read(b)]);
    expect(forA).toHaveLength(101);
    expect(forB).toEqual(forA);
    expect(new Set(forA).size).toBe(101);
    // The order is the stored sequence: gapless 1..101.
    const seqs = await t.query<{ seq: string }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [c]);
    expect(seqs.map((s) => Number(s.seq))).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
  });

  it('pages history both ways with opaque cursors and refuses bad page arguments', async () => {
    const [a, , c] = await pair();
    for (let i = 1; i <= 4; i++) await send(a, c, `n${i}`);
    const first = await t.ok(MessagesDocument, { conversationId: c, first: 2 }, a.token);
    expect(first.messages.edges.map((e) => e.node.text)).toEqual(['hello', 'n1']);
    expect(first.messages.pageInfo.hasNextPage).toBe(true);
    const next = await t.ok(MessagesDocument, { conversationId: c, first: 10, after: first.messages.pageInfo.endCursor }, a.token);
    expect(next.messages.edges.map((e) => e.node.text)).toEqual(['n2', 'n3', 'n4']);
    expect(next.messages.pageInfo.hasNextPage).toBe(false);
    const newest = await t.ok(MessagesDocument, { conversationId: c }, a.token);
    expect(newest.messages.edges.map((e) => e.node.text)).toEqual(['hello', 'n1', 'n2', 'n3', 'n4']);
    expect(codeOf(await t.gql(MessagesDocument, { conversationId: c, first: 101 }, a.token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(MessagesDocument, { conversationId: c, first: 1, after: 'garbage!' }, a.token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(MessagesDocument, { conversationId: c, first: 1, last: 1 }, a.token))).toBe('BAD_USER_INPUT');
  });
});

describe('seen receipts', () => {
  it('markConversationSeen moves status to SEEN and sends messageSeen to the sender only', async () => {
    const [a, b, c] = await pair();
    const third = await t.makeUser();
    const m2 = (await send(a, c, 'second')).data!.sendMessage;
    const subA = await t.subscribe(OnMessageSeenDocument, { conversationId: c }, a.token);
    const subB = await t.subscribe(OnMessageSeenDocument, {}, b.token);
    const subThird = await t.subscribe(OnMessageSeenDocument, {}, third.token);
    const subAFull = await t.subscribe<{ messageSeen: { reader: { id: string; username: string } } }, unknown>(
      `subscription { messageSeen { reader { id username } } }`,
      {},
      a.token,
    );

    expect((await history(a, c)).map((m) => m.status)).toEqual(['SENT', 'SENT']);
    const seen = await t.ok(MarkConversationSeenDocument, { conversationId: c }, b.token);
    expect(seen.markConversationSeen.unreadCount).toBe(0);

    const event = await subA.next();
    expect(event.messageSeen).toMatchObject({ conversationId: c, reader: { id: b.id }, upToMessageId: m2.id });
    expect((await subAFull.next()).messageSeen.reader).toEqual({ id: b.id, username: b.username });
    const mine = await history(a, c);
    expect(mine.map((m) => m.status)).toEqual(['SEEN', 'SEEN']);
    expect(mine[1].seenAt).toBe(event.messageSeen.seenAt);

    // A later signal to b proves b heard nothing of its own mark; the third account nothing at all.
    await send(b, c, 'back to you');
    await t.ok(MarkConversationSeenDocument, { conversationId: c }, a.token);
    const toB = await subB.next();
    expect(toB.messageSeen.reader.id).toBe(a.id);
    expect(subB.events).toHaveLength(1);
    expect(subA.events).toHaveLength(1);
    expect(subThird.events).toHaveLength(0);
    await Promise.all([subA.close(), subB.close(), subThird.close(), subAFull.close()]);
  });

  it('passing only one\'s own messages sends the other party no receipt', async () => {
    const [a, b, c] = await pair();
    const receipts = async () => (await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE user_id = $1 AND type = 'MESSAGE_SEEN'`, [a.id]))[0].n;
    await t.ok(MarkConversationSeenDocument, { conversationId: c }, b.token);
    expect(await receipts()).toBe(1);
    await send(b, c, 'my own reply');
    await t.ok(MarkConversationSeenDocument, { conversationId: c }, b.token);
    expect(await receipts()).toBe(1);
    await send(a, c, 'and another');
    await t.ok(MarkConversationSeenDocument, { conversationId: c }, b.token);
    expect(await receipts()).toBe(2);
  });

  it('marking backwards does nothing', async () => {
    const [a, b, c] = await pair();
    const m2 = (await send(a, c, 'two')).data!.sendMessage;
    const m3 = (await send(a, c, 'three')).data!.sendMessage;
    await t.ok(MarkConversationSeenDocument, { conversationId: c, upToMessageId: m2.id }, b.token);
    expect((await history(a, c)).map((m) => m.status)).toEqual(['SEEN', 'SEEN', 'SENT']);
    await t.ok(MarkConversationSeenDocument, { conversationId: c, upToMessageId: m3.id }, b.token);

    const before = await writeSnapshot(t, c);
    const back = await t.ok(MarkConversationSeenDocument, { conversationId: c, upToMessageId: m2.id }, b.token);
    expect(back.markConversationSeen.unreadCount).toBe(0);
    expect(await writeSnapshot(t, c)).toEqual(before);
    const [{ last_read_seq }] = await t.query<{ last_read_seq: string }>(
      'SELECT last_read_seq FROM conversation_members WHERE conversation_id = $1 AND user_id = $2',
      [c, b.id],
    );
    expect(Number(last_read_seq)).toBe(3);
  });

  it('refuses a message of another conversation as upToMessageId with NOT_FOUND', async () => {
    const [, b, c] = await pair();
    const [x, , other] = await pair();
    const foreign = (await send(x, other, 'elsewhere')).data!.sendMessage;
    const before = await writeSnapshot(t, c);
    const res = await t.gql(MarkConversationSeenDocument, { conversationId: c, upToMessageId: foreign.id }, b.token);
    expect(codeOf(res)).toBe('NOT_FOUND');
    expect(await writeSnapshot(t, c)).toEqual(before);
  });

  it('unread counts are exact after concurrent sends, and follow the read pointer', async () => {
    const [a, b, c] = await pair();
    await Promise.all([
      ...Array.from({ length: 25 }, (_, i) => send(a, c, `a${i}`)),
      ...Array.from({ length: 15 }, (_, i) => send(b, c, `b${i}`)),
    ]);
    const unread = async (u: TestUser) => (await t.ok(ConversationByIdDocument, { id: c, last: 1 }, u.token)).conversation.unreadCount;
    // b has a's 26 messages (the intro too) past its pointer; a has b's 15. Own messages never count.
    expect(await unread(b)).toBe(26);
    expect(await unread(a)).toBe(15);
    expect((await t.app.services.badge.badge(b.id)).unreadConversationCount).toBe(1);

    const msgs = await history(b, c);
    const middle = msgs[20];
    const stillUnread = msgs.slice(21).filter((m) => m.sender.id === a.id).length;
    const res = await t.ok(MarkConversationSeenDocument, { conversationId: c, upToMessageId: middle.id }, b.token);
    expect(res.markConversationSeen.unreadCount).toBe(stillUnread);
    expect(await unread(b)).toBe(stillUnread);
    expect(await unread(a)).toBe(15);
    await t.ok(MarkConversationSeenDocument, { conversationId: c }, b.token);
    expect(await unread(b)).toBe(0);
    expect((await t.app.services.badge.badge(b.id)).unreadConversationCount).toBe(0);
    expect((await t.app.services.badge.badge(a.id)).unreadConversationCount).toBe(1);
  });

  it('the inbox badge follows sends, deletes and marks', async () => {
    const [a, b, c] = await pair();
    const badge = async () => (await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge;
    const badgeEvents = async () =>
      Number((await t.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE user_id = $1 AND type = 'INBOX_BADGE_CHANGED'`, [b.id]))[0].n);
    expect(await badge()).toMatchObject({ unreadConversationCount: 1, showDot: true });
    await t.ok(MarkConversationSeenDocument, { conversationId: c }, b.token);
    expect(await badge()).toMatchObject({ unreadConversationCount: 0, showDot: false });

    const events = await badgeEvents();
    await send(a, c, 'ping');
    expect(await badgeEvents()).toBe(events + 1);
    expect((await badge()).unreadConversationCount).toBe(1);
    await t.ok(DeleteConversationDocument, { id: c }, b.token);
    expect(await badgeEvents()).toBe(events + 2);
    expect((await badge()).unreadConversationCount).toBe(0);
    await send(a, c, 'ping again');
    expect((await badge()).unreadConversationCount).toBe(1);
    await t.ok(MarkConversationSeenDocument, { conversationId: c }, b.token);
    expect((await badge()).unreadConversationCount).toBe(0);
    // The sender's own messages never make its badge red.
    expect((await t.ok(InboxBadgeDocument, {}, a.token)).inboxBadge.unreadConversationCount).toBe(0);
  });

  it('a block stops seen receipts: the pointer moves for the reader, the sender learns nothing', async () => {
    const [a, b, c] = await pair();
    await t.ok(BlockUserDocument, { userId: a.id }, b.token);
    const before = await t.query(`SELECT count(*) AS n FROM events WHERE user_id = $1 AND type = 'MESSAGE_SEEN'`, [a.id]);
    const res = await t.ok(MarkConversationSeenDocument, { conversationId: c }, b.token);
    expect(res.markConversationSeen.unreadCount).toBe(0);
    expect((await history(a, c)).map((m) => m.status)).toEqual(['SENT']);
    expect(await t.query(`SELECT count(*) AS n FROM events WHERE user_id = $1 AND type = 'MESSAGE_SEEN'`, [a.id])).toEqual(before);
  });

  it('a mark racing a block waits for it, then sends no receipt across it', async () => {
    const [a, b, c] = await pair();
    const block = await blockHoldingPair(a, b);
    let answered = false;
    const marking = t.ok(MarkConversationSeenDocument, { conversationId: c }, b.token).then((res) => ((answered = true), res));
    await waitingOnPairLock(t, () => answered);
    expect(answered).toBe(false);
    await block.commit();
    expect((await marking).markConversationSeen.unreadCount).toBe(0);
    expect((await history(a, c)).map((m) => m.status)).toEqual(['SENT']);
    expect(await t.query(`SELECT count(*)::int AS n FROM events WHERE user_id = $1 AND type = 'MESSAGE_SEEN'`, [a.id])).toEqual([{ n: 0 }]);
  });
});

describe('messageReceived', () => {
  it('reaches the recipient and the sender\'s other devices, filtered by conversation, and no one else', async () => {
    const [a, b, c] = await pair();
    const [x, , other] = await pair();
    const third = await t.makeUser();
    const subB = await t.subscribe(OnMessageReceivedDocument, { conversationId: c }, b.token);
    const subA = await t.subscribe(OnMessageReceivedDocument, {}, a.token);
    const subThird = await t.subscribe(OnMessageReceivedDocument, {}, third.token);
    // b is not in the other conversation; a message there must not reach b's filtered stream either.
    await send(x, other, 'elsewhere');
    const sent = (await send(a, c, 'live', 'dev-1')).data!.sendMessage;
    const toB = await subB.next();
    expect(toB.messageReceived.message).toMatchObject({ id: sent.id, text: 'live', status: 'SENT', sender: { id: a.id }, clientMessageId: null });
    expect(toB.messageReceived.cursor).toMatch(/^\d+$/);
    const toA = await subA.next();
    expect(toA.messageReceived.message).toMatchObject({ id: sent.id, clientMessageId: 'dev-1' });
    // The event log holds the same event under the same cursor.
    const logged = await t.query<{ seq: string }>(`SELECT seq FROM events WHERE user_id = $1 AND type = 'MESSAGE_RECEIVED'`, [b.id]);
    expect(logged.map((r) => String(r.seq))).toEqual([toB.messageReceived.cursor]);
    expect(subB.events).toHaveLength(1);
    expect(subThird.events).toHaveLength(0);
    await Promise.all([subA.close(), subB.close(), subThird.close()]);
  });
  it('a send waiting on a member row that deleteConversation holds has not taken the event counters yet', async () => {
    const [a, b, c] = await pair();
    // b's deleteConversation, held open after it wrote b's member row.
    const hide = await holdingTransaction(t, async (tx) => {
      await tx.manager.query(`UPDATE conversation_members SET in_inbox = false WHERE conversation_id = $1 AND user_id = $2`, [c, b.id]);
    });
    let answered = false;
    const sent = send(a, c, 'while b deletes').finally(() => (answered = true));
    await waitingOnRowLock(t, () => answered);
    expect(answered).toBe(false);
    // deleteConversation's badge event, written at its commit, takes b's counter row: free.
    await hide.tx.manager.query(`SET LOCAL lock_timeout = '500ms'`);
    await hide.tx.manager.query(
      `INSERT INTO event_counters (user_id, last_seq) VALUES ($1, 0) ON CONFLICT (user_id) DO UPDATE SET last_seq = event_counters.last_seq`,
      [b.id],
    );
    await hide.commit();
    expect((await sent).errors).toBeUndefined();
  });

  it('a refused send announces nothing: its events roll back with its append', async () => {
    const [a, b, c] = await pair();
    const subB = await t.subscribe(OnMessageReceivedDocument, { conversationId: c }, b.token);
    await t.query(`INSERT INTO messaging_bans (user_id, until, source) VALUES ($1, NULL, 'MODERATOR')`, [a.id]);
    expect(codeOf(await send(a, c, 'refused'))).toBe('MESSAGING_BANNED');
    await t.query(`DELETE FROM messaging_bans WHERE user_id = $1`, [a.id]);
    const sent = (await send(a, c, 'sent')).data!.sendMessage;
    expect((await subB.next()).messageReceived.message).toMatchObject({ id: sent.id, text: 'sent' });
    const logged = await t.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE user_id = $1 AND type = 'MESSAGE_RECEIVED'`, [b.id]);
    expect(Number(logged[0].n)).toBe(1);
    expect(subB.events).toHaveLength(1);
    await subB.close();
  });
});

describe('delivery re-check', () => {
  it('an event about the blocker logged just before the block does not reach the blocked account live', async () => {
    const [a, b, c] = await pair();
    const z = await t.makeUser();
    const withZ = await openConversation(t, a, z, 'a to z');
    const subA = await t.subscribe(OnMessageSeenDocument, {}, a.token);
    await t.ok(BlockUserDocument, { userId: a.id }, b.token);
    // As if b's mark had committed an instant before the block: the event is in a's log.
    const [intro] = await history(b, c);
    await runInTransaction(t.app.dataSource, async (tx) => {
      t.app.services.events.emit(tx, a.id, EventType.MESSAGE_SEEN, {
        conversationId: c,
        readerId: b.id,
        upToMessageId: intro.id,
        seenAt: t.clock.now().toISOString(),
      });
    });
    // A later, legitimate receipt from z is delivered; b's never is.
    await t.ok(MarkConversationSeenDocument, { conversationId: withZ }, z.token);
    const event = await subA.next();
    expect(event.messageSeen.reader.id).toBe(z.id);
    expect(subA.events).toHaveLength(1);
    await subA.close();
  });
});
