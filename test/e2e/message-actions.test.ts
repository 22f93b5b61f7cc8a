import { codeOf, startTestApp, type TestApp, type TestUser } from '../support/app';
import { openConversation, writeSnapshot } from '../support/conversations';
import {
  ConversationByIdDocument,
  EditMessageDocument,
  EventsWithMessagesDocument,
  InboxBadgeDocument,
  MessageRequestsDocument,
  MessagesWithActionsDocument,
  OnMessageEditedDocument,
  OnMessageReactionDocument,
  OnMessageUnsentDocument,
  ReactToMessageDocument,
  RemoveReactionDocument,
  ReportUserDocument,
  ReportsWithSealedTextsDocument,
  SendMessageRequestDocument,
  SendReplyDocument,
  SentMessageRequestsDocument,
  UnsendMessageDocument,
} from '../generated/graphql';

/**
 * Issue 17 end to end over HTTP and graphql-ws: unsend for everyone (sealed for
 * moderators), edit with history, reactions, replies; each respecting blocks, bans and
 * NOBODY as sending does, none bumping unread counts.
 */
let t: TestApp;
let moderator: TestUser;
beforeAll(async () => {
  t = await startTestApp({ MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000' });
  moderator = await t.makeUser({ role: 'MODERATOR' });
});
afterAll(() => t.close());

async function pair(): Promise<{ a: TestUser; b: TestUser; c: string }> {
  const a = await t.makeUser();
  const b = await t.makeUser();
  return { a, b, c: await openConversation(t, a, b) };
}

const send = async (from: TestUser, conversationId: string, text: string, replyToId?: string) =>
  (await t.ok(SendReplyDocument, { input: { conversationId, text, replyToId } }, from.token)).sendMessage;

const history = async (viewer: TestUser, conversationId: string, last = 20) =>
  (await t.ok(MessagesWithActionsDocument, { conversationId, last }, viewer.token)).messages.edges.map((e) => e.node);

const unread = async (viewer: TestUser, conversationId: string) =>
  (await t.ok(ConversationByIdDocument, { id: conversationId }, viewer.token)).conversation.unreadCount;

describe('unsendMessage', () => {
  it('takes the text away from both participants, live and in the event log, and keeps it for a moderator through a report filed after', async () => {
    const { a, b, c } = await pair();
    const secret = 'you will regret this SECRET-17';
    const toB = await t.subscribe(OnMessageUnsentDocument, { conversationId: c }, b.token);
    const toA = await t.subscribe(OnMessageUnsentDocument, {}, a.token);
    const [before] = await t.query<{ seq: string }>(`SELECT coalesce(max(seq), 0) AS seq FROM events WHERE user_id = $1`, [b.id]);
    const sent = await send(a, c, secret);
    expect(await unread(b, c)).toBe(2);

    // Only the sender; an outsider learns nothing.
    expect(codeOf(await t.gql(UnsendMessageDocument, { id: sent.id }, b.token))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql(UnsendMessageDocument, { id: sent.id }, (await t.makeUser()).token))).toBe('NOT_FOUND');

    const unsent = (await t.ok(UnsendMessageDocument, { id: sent.id }, a.token)).unsendMessage;
    expect(unsent).toMatchObject({ id: sent.id, text: '', unsent: true });
    expect(unsent.unsentAt).toBeTruthy();
    // Live to both sides, as the tombstone.
    expect((await toB.next()).messageUnsent.message).toMatchObject({ id: sent.id, text: '', unsent: true });
    expect((await toA.next()).messageUnsent.message).toMatchObject({ id: sent.id, text: '', unsent: true });
    // Gone from both histories (the tombstone stays in its place), and no longer unread.
    for (const viewer of [a, b]) {
      const messages = await history(viewer, c);
      expect(messages.map((m) => m.id)).toContain(sent.id);
      expect(JSON.stringify(messages)).not.toContain('SECRET-17');
    }
    expect(await unread(b, c)).toBe(1);
    // Unsending again answers the same tombstone.
    expect((await t.ok(UnsendMessageDocument, { id: sent.id }, a.token)).unsendMessage.unsent).toBe(true);

    // The event log: MESSAGE_RECEIVED then MESSAGE_UNSENT, rendered as the tombstone; no payload carries the text.
    const events = (await t.ok(EventsWithMessagesDocument, { after: String(before.seq) }, b.token)).events;
    expect(events.map((e) => e.type)).toEqual(['MESSAGE_RECEIVED', 'INBOX_BADGE_CHANGED', 'MESSAGE_UNSENT', 'INBOX_BADGE_CHANGED']);
    expect(events[2]).toMatchObject({ messageId: sent.id, conversationId: c, actorId: a.id, message: { id: sent.id, text: '', unsent: true } });
    expect(JSON.stringify(events)).not.toContain('SECRET-17');
    const payloads = await t.query<{ payload: unknown }>(`SELECT payload FROM events WHERE user_id = ANY($1::uuid[])`, [[a.id, b.id]]);
    expect(JSON.stringify(payloads)).not.toContain('SECRET-17');
    expect(await t.query(`SELECT 1 FROM messages WHERE text LIKE '%SECRET-17%'`)).toEqual([]);

    // B reports A after the unsend: the moderator sees the unsent text in the report's context.
    await t.ok(ReportUserDocument, { input: { userId: a.id, reason: 'HARASSMENT', messageId: sent.id } }, b.token);
    const reports = (await t.ok(ReportsWithSealedTextsDocument, {}, moderator.token)).reports.edges.map((e) => e.node);
    const report = reports.find((r) => r.message?.id === sent.id)!;
    expect(report.message).toMatchObject({ text: '', unsent: true });
    expect(report.sealedTexts).toEqual([{ messageId: sent.id, kind: 'UNSENT', text: secret, sealedAt: unsent.unsentAt }]);
    // Not to the reporter, who asks the same fields.
    const asReporter = await t.gql(ReportsWithSealedTextsDocument, {}, b.token);
    expect(JSON.stringify(asReporter)).not.toContain('SECRET-17');
    await Promise.all([toA.close(), toB.close()]);
  });

  it('is refused after the unsend window, writing nothing', async () => {
    const { a, c } = await pair();
    const sent = await send(a, c, 'old words');
    t.clock.advance(24 * 3600_000 + 60_000);
    try {
      const snapshot = await writeSnapshot(t, c);
      const res = await t.gql(UnsendMessageDocument, { id: sent.id }, a.token);
      expect(codeOf(res)).toBe('UNSEND_WINDOW_CLOSED');
      expect(res.errors![0].extensions!.windowSeconds).toBe(24 * 3600);
      expect(await writeSnapshot(t, c)).toEqual(snapshot);
      expect((await history(a, c)).find((m) => m.id === sent.id)!.text).toBe('old words');
    } finally {
      t.clock.advance(-(24 * 3600_000 + 60_000));
    }
  });

  it('of a pending request’s intro withdraws the request: the recipient’s folder and badge drop', async () => {
    const a = await t.makeUser();
    const b = await t.makeUser();
    const request = (await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi, SECRET-INTRO' } }, a.token)).sendMessageRequest;
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge.pendingRequestCount).toBe(1);
    const [intro] = await history(a, request.conversation!.id);
    // The recipient may not react to a pending request.
    expect(codeOf(await t.gql(ReactToMessageDocument, { messageId: intro.id, emoji: '👍' }, b.token))).toBe('REQUEST_PENDING');
    // Nor may the sender edit it: more than its intro waits for an accept.
    expect(codeOf(await t.gql(EditMessageDocument, { id: intro.id, text: 'changed' }, a.token))).toBe('REQUEST_PENDING');

    await t.ok(UnsendMessageDocument, { id: intro.id }, a.token);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge.pendingRequestCount).toBe(0);
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.totalCount).toBe(0);
    const sent = (await t.ok(SentMessageRequestsDocument, {}, a.token)).sentMessageRequests.edges.map((e) => e.node);
    expect(sent).toEqual([expect.objectContaining({ id: request.id, status: 'WITHDRAWN', text: '' })]);
    expect(await t.query(`SELECT 1 FROM notifications WHERE user_id = $1`, [b.id])).toEqual([]);
    expect(JSON.stringify(await t.query(`SELECT payload FROM events WHERE user_id = $1`, [b.id]))).not.toContain('SECRET-INTRO');
  });
});

describe('editMessage', () => {
  it('replaces the text for both, live, with editedAt; the earlier texts only a moderator sees', async () => {
    const { a, b, c } = await pair();
    const toB = await t.subscribe(OnMessageEditedDocument, { conversationId: c }, b.token);
    const sent = await send(a, c, 'first draft OLD-TEXT');
    const unreadBefore = await unread(b, c);
    const edited = (await t.ok(EditMessageDocument, { id: sent.id, text: 'second draft' }, a.token)).editMessage;
    expect(edited).toMatchObject({ id: sent.id, text: 'second draft' });
    expect(edited.editedAt).toBeTruthy();
    expect((await toB.next()).messageEdited.message).toMatchObject({ id: sent.id, text: 'second draft', editedAt: edited.editedAt });
    expect(await unread(b, c)).toBe(unreadBefore);
    // The other participant sees the new text only, in history and in the event log.
    expect(JSON.stringify(await history(b, c))).not.toContain('OLD-TEXT');
    expect(JSON.stringify((await t.ok(EventsWithMessagesDocument, {}, b.token)).events)).not.toContain('OLD-TEXT');

    // Only the sender; bad text is refused and writes nothing.
    expect(codeOf(await t.gql(EditMessageDocument, { id: sent.id, text: 'mine now' }, b.token))).toBe('FORBIDDEN');
    const snapshot = await writeSnapshot(t, c);
    expect(codeOf(await t.gql(EditMessageDocument, { id: sent.id, text: '   ' }, a.token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(EditMessageDocument, { id: sent.id, text: 'x'.repeat(4001) }, a.token))).toBe('BAD_USER_INPUT');
    expect(await writeSnapshot(t, c)).toEqual(snapshot);

    await t.ok(ReportUserDocument, { input: { userId: a.id, reason: 'SPAM', messageId: sent.id } }, b.token);
    const reports = (await t.ok(ReportsWithSealedTextsDocument, {}, moderator.token)).reports.edges.map((e) => e.node);
    const report = reports.find((r) => r.message?.id === sent.id)!;
    expect(report.message!.text).toBe('second draft');
    expect(report.sealedTexts).toEqual([expect.objectContaining({ messageId: sent.id, kind: 'EDITED', text: 'first draft OLD-TEXT' })]);
    await toB.close();
  });

  it('is refused after 15 minutes, and after 5 edits even when they race', async () => {
    const { a, c } = await pair();
    const late = await send(a, c, 'late');
    t.clock.advance(15 * 60_000 + 1000);
    try {
      const res = await t.gql(EditMessageDocument, { id: late.id, text: 'too late' }, a.token);
      expect(codeOf(res)).toBe('EDIT_WINDOW_CLOSED');
      expect(res.errors![0].extensions!.windowSeconds).toBe(15 * 60);
    } finally {
      t.clock.advance(-(15 * 60_000 + 1000));
    }
    expect((await history(a, c)).find((m) => m.id === late.id)!.text).toBe('late');

    const racing = await send(a, c, 'v0');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => t.gql(EditMessageDocument, { id: racing.id, text: `v${i + 1}` }, a.token)));
    expect(results.filter((r) => !r.errors).length).toBe(5);
    expect(results.filter((r) => codeOf(r) === 'EDIT_LIMIT_REACHED').length).toBe(3);
    const [row] = await t.query<{ edit_count: number; sealed: string }>(
      `SELECT edit_count, (SELECT count(*) FROM message_sealed_texts WHERE message_id = $1) AS sealed FROM messages WHERE id = $1`,
      [racing.id],
    );
    expect(row).toEqual({ edit_count: 5, sealed: '5' });
  });
});

describe('reactions', () => {
  it('one per participant, set, replaced and removed, live to both, without touching unread counts', async () => {
    const { a, b, c } = await pair();
    const sent = await send(a, c, 'react to me');
    await t.ok(`mutation($id: ID!) { markConversationSeen(conversationId: $id) { id } }`, { id: c }, b.token);
    const toA = await t.subscribe(OnMessageReactionDocument, { conversationId: c }, a.token);
    const [badgeBefore] = await t.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'INBOX_BADGE_CHANGED'`);

    const byB = (await t.ok(ReactToMessageDocument, { messageId: sent.id, emoji: '👍🏽' }, b.token)).reactToMessage;
    expect(byB.reactions).toEqual([{ emoji: '👍🏽', count: 1, reactedByViewer: true }]);
    expect(await toA.next()).toMatchObject({ messageReaction: { emoji: '👍🏽', reactor: { id: b.id }, message: { id: sent.id, reactions: [{ emoji: '👍🏽', count: 1, reactedByViewer: false }] } } });
    await t.ok(ReactToMessageDocument, { messageId: sent.id, emoji: '👍🏽' }, a.token);
    // A second reaction replaces the first: still one per participant.
    await t.ok(ReactToMessageDocument, { messageId: sent.id, emoji: '👨‍👩‍👧' }, b.token);
    expect((await history(a, c)).find((m) => m.id === sent.id)!.reactions).toEqual([
      { emoji: '👍🏽', count: 1, reactedByViewer: true },
      { emoji: '👨‍👩‍👧', count: 1, reactedByViewer: false },
    ]);
    const removed = (await t.ok(RemoveReactionDocument, { messageId: sent.id }, b.token)).removeReaction;
    expect(removed.reactions).toEqual([{ emoji: '👍🏽', count: 1, reactedByViewer: false }]);
    expect(await t.query(`SELECT 1 FROM message_reactions WHERE user_id = $1`, [b.id])).toEqual([]);
    // Nobody's unread count or badge moved.
    expect(await unread(a, c)).toBe(0);
    expect(await unread(b, c)).toBe(0);
    const [badgeAfter] = await t.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'INBOX_BADGE_CHANGED'`);
    expect(badgeAfter.n).toBe(badgeBefore.n);
    await toA.close();
  });

  it('accepts a single emoji only', async () => {
    const { a, b, c } = await pair();
    const sent = await send(a, c, 'x');
    for (const emoji of ['', 'a', '1', 'ok', '👍👍', '👍 ', '\u200F👍', '👍'.repeat(40), '\u0000']) {
      const res = await t.gql(ReactToMessageDocument, { messageId: sent.id, emoji }, b.token);
      expect([emoji, codeOf(res)]).toEqual([emoji, 'BAD_USER_INPUT']);
    }
    for (const emoji of ['❤️', '🇫🇷', '1️⃣', '🏳️‍🌈']) await t.ok(ReactToMessageDocument, { messageId: sent.id, emoji }, b.token);
    expect(await t.query(`SELECT emoji FROM message_reactions WHERE message_id = $1`, [sent.id])).toEqual([{ emoji: '🏳️‍🌈' }]);
  });

  it('a 50-message page with reactions keeps the statement count of a 10-message page', async () => {
    const { a, b, c } = await pair();
    for (let i = 0; i < 60; i++) {
      const m = await send(i % 2 ? a : b, c, `m${i}`);
      if (i % 3 === 0) await t.ok(ReactToMessageDocument, { messageId: m.id, emoji: i % 2 ? '🔥' : '😂' }, i % 2 ? b.token : a.token);
    }
    const count = async (last: number) => {
      t.sql.reset();
      const res = await t.ok(MessagesWithActionsDocument, { conversationId: c, last }, a.token);
      return { count: t.sql.count, edges: res.messages.edges };
    };
    await count(10); // tokens and statements warm
    const small = await count(10);
    const large = await count(50);
    expect(large.edges).toHaveLength(50);
    expect(large.edges.filter((e) => e.node.reactions.length).length).toBeGreaterThan(10);
    expect(large.count).toBe(small.count);
  });
});

describe('replies', () => {
  it('shows a preview of the message answered, a tombstone once it is unsent', async () => {
    const { a, b, c } = await pair();
    const original = await send(a, c, 'shall we meet?');
    const reply = await send(b, c, 'yes', original.id);
    expect(reply.replyTo).toEqual({ id: original.id, text: 'shall we meet?', unsent: false, sender: { id: a.id } });
    await t.ok(UnsendMessageDocument, { id: original.id }, a.token);
    expect((await history(b, c)).find((m) => m.id === reply.id)!.replyTo).toEqual({ id: original.id, text: '', unsent: true, sender: { id: a.id } });
    // An unsent message can no longer be answered.
    expect(codeOf(await t.gql(SendReplyDocument, { input: { conversationId: c, text: 'late', replyToId: original.id } }, b.token))).toBe('NOT_FOUND');
  });

  it('to a message of another conversation is NOT_FOUND and writes nothing', async () => {
    const { a, b, c } = await pair();
    const other = await pair();
    const theirs = await send(other.a, other.c, 'SECRET-OTHER');
    const snapshot = await writeSnapshot(t, c);
    for (const replyToId of [theirs.id, 'not-an-id', '00000000-0000-0000-0000-000000000000']) {
      const res = await t.gql(SendReplyDocument, { input: { conversationId: c, text: 'reply', replyToId } }, a.token);
      expect(codeOf(res)).toBe('NOT_FOUND');
      expect(JSON.stringify(res)).not.toContain('SECRET-OTHER');
    }
    expect(await writeSnapshot(t, c)).toEqual(snapshot);
    void b;
  });
});

describe('outsiders, blocks, bans and NOBODY', () => {
  it('an outsider can neither react to, reply to, edit nor unsend a pair’s message', async () => {
    const { a, c } = await pair();
    const mallory = await t.makeUser();
    const own = await openConversation(t, mallory, await t.makeUser());
    const sent = await send(a, c, 'SECRET-PAIR');
    const snapshot = await writeSnapshot(t, c);
    const attempts = [
      t.gql(ReactToMessageDocument, { messageId: sent.id, emoji: '👍' }, mallory.token),
      t.gql(RemoveReactionDocument, { messageId: sent.id }, mallory.token),
      t.gql(EditMessageDocument, { id: sent.id, text: 'mine' }, mallory.token),
      t.gql(UnsendMessageDocument, { id: sent.id }, mallory.token),
      t.gql(SendReplyDocument, { input: { conversationId: own, text: 'quote', replyToId: sent.id } }, mallory.token),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(codeOf(res)).toBe('NOT_FOUND');
      expect(JSON.stringify(res)).not.toContain('SECRET-PAIR');
    }
    expect(await writeSnapshot(t, c)).toEqual(snapshot);
  });

  it('a block either way, a ban or one’s own messages off refuse them as they refuse sending', async () => {
    const { a, b, c } = await pair();
    const sent = await send(a, c, 'hello');
    const theirs = await send(b, c, 'hi');
    const tryAll = async () => [
      codeOf(await t.gql(EditMessageDocument, { id: sent.id, text: 'edited' }, a.token)),
      codeOf(await t.gql(UnsendMessageDocument, { id: sent.id }, a.token)),
      codeOf(await t.gql(ReactToMessageDocument, { messageId: theirs.id, emoji: '👍' }, a.token)),
      codeOf(await t.gql(SendReplyDocument, { input: { conversationId: c, text: 'r', replyToId: theirs.id } }, a.token)),
    ];
    await t.ok(`mutation($id: ID!) { blockUser(userId: $id) { id } }`, { id: a.id }, b.token);
    expect(await tryAll()).toEqual(Array(4).fill('RECIPIENT_UNAVAILABLE'));
    await t.ok(`mutation($id: ID!) { unblockUser(userId: $id) { id } }`, { id: a.id }, b.token);

    await t.ok(`mutation($id: ID!) { banFromMessaging(userId: $id) { id } }`, { id: a.id }, moderator.token);
    expect(await tryAll()).toEqual(Array(4).fill('MESSAGING_BANNED'));
    await t.ok(`mutation($id: ID!) { liftMessagingBan(userId: $id) { id } }`, { id: a.id }, moderator.token);

    await t.query(`UPDATE users SET dm_policy = 'NOBODY' WHERE id = $1`, [a.id]);
    expect(await tryAll()).toEqual(Array(4).fill('OWN_MESSAGING_DISABLED'));
    await t.query(`UPDATE users SET dm_policy = 'EVERYONE' WHERE id = $1`, [a.id]);
    expect((await history(a, c)).map((m) => m.text)).toEqual(['hello', 'hello', 'hi']);
  });
});

describe('rate limits', () => {
  it('the actions spend the sending budget', async () => {
    const limited = await startTestApp({ MESSAGE_RATE_PER_SECOND: '1', MESSAGE_RATE_BURST: '3' });
    try {
      const a = await limited.makeUser();
      const b = await limited.makeUser();
      const c = await openConversation(limited, a, b);
      const sent = (await limited.ok(SendReplyDocument, { input: { conversationId: c, text: 'one' } }, a.token)).sendMessage;
      await limited.ok(EditMessageDocument, { id: sent.id, text: 'two' }, a.token);
      await limited.ok(ReactToMessageDocument, { messageId: sent.id, emoji: '👍' }, a.token);
      const res = await limited.gql(UnsendMessageDocument, { id: sent.id }, a.token);
      expect(codeOf(res)).toBe('RATE_LIMITED');
      expect(res.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

describe('sealed text retention', () => {
  it('purges sealed texts after SEALED_TEXT_RETENTION_DAYS, but not while an open report names the message', async () => {
    const { a, b, c } = await pair();
    const kept = await send(a, c, 'reported SEALED-KEPT');
    const purged = await send(a, c, 'SEALED-PURGED');
    await t.ok(UnsendMessageDocument, { id: kept.id }, a.token);
    await t.ok(UnsendMessageDocument, { id: purged.id }, a.token);
    await t.ok(ReportUserDocument, { input: { userId: a.id, reason: 'HARASSMENT', messageId: kept.id } }, b.token);
    await t.app.sealedRetention.runOnce();
    expect(await t.query(`SELECT count(*)::int AS n FROM message_sealed_texts WHERE message_id = ANY($1::uuid[])`, [[kept.id, purged.id]])).toEqual([{ n: 2 }]);
    t.clock.advance(31 * 24 * 3600_000);
    try {
      await t.app.sealedRetention.runOnce();
      const left = await t.query<{ text: string }>(`SELECT text FROM message_sealed_texts WHERE message_id = ANY($1::uuid[])`, [[kept.id, purged.id]]);
      expect(left).toEqual([{ text: 'reported SEALED-KEPT' }]);
    } finally {
      t.clock.advance(-31 * 24 * 3600_000);
    }
  });
});
