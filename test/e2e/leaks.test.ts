import { codeOf, startTestApp, type TestApp, type TestUser } from '../support/app';
import { openConversation } from '../support/conversations';
import {
  BlockUserDocument,
  EditMessageDocument,
  EventsDocument,
  ReactToMessageDocument,
  InboxBadgeDocument,
  MarkConversationSeenDocument,
  OnInboxBadgeChangedDocument,
  SendMessageDocument,
  SendMessageRequestDocument,
  SignUpDocument,
  UpdateProfileDocument,
  UserByNameDocument,
  WithdrawMessageRequestDocument,
} from '../generated/graphql';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const DAY = 86_400_000;
const sendRequest = (from: TestUser, to: TestUser, text = 'hello') =>
  t.ok(SendMessageRequestDocument, { input: { recipientId: to.id, text } }, from.token).then((r) => r.sendMessageRequest);

describe('a block that withdraws the blocker’s own request reads as a withdraw to the blocked account', () => {
  it('the blocked account hears the same inboxBadgeChanged a withdraw sends', async () => {
    const [withdrawer, blocker, b] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const own = await sendRequest(withdrawer, b);
    await sendRequest(blocker, b);
    const badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, b.token);
    try {
      await t.ok(WithdrawMessageRequestDocument, { id: own.id }, withdrawer.token);
      const afterWithdraw = (await badge.next()).inboxBadgeChanged.badge;
      expect(afterWithdraw).toEqual({ pendingRequestCount: 1, showDot: true });

      await t.ok(BlockUserDocument, { userId: b.id }, blocker.token);
      const afterBlock = (await badge.next()).inboxBadgeChanged.badge;
      expect(afterBlock).toEqual({ pendingRequestCount: 0, showDot: false });
      expect(badge.events).toHaveLength(2);
    } finally {
      await badge.close();
    }
  });

  it('and, as a withdraw, sends nothing for a hidden request', async () => {
    const [fresh, b, c] = [await t.makeUser({ ageHours: 1 }), await t.makeUser(), await t.makeUser()];
    await sendRequest(fresh, b); // from a new account: hidden, no badge
    const badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, b.token);
    try {
      await t.ok(BlockUserDocument, { userId: b.id }, fresh.token);
      // The next event is the one c's request causes: the block sent none.
      await sendRequest(c, b);
      expect((await badge.next()).inboxBadgeChanged.badge).toEqual({ pendingRequestCount: 1, showDot: true });
      expect(badge.events).toHaveLength(1);
    } finally {
      await badge.close();
    }
  });
});

describe('display names cannot carry bidi overrides or isolates', () => {
  const spoofs = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'];

  it.each(spoofs.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase()}`, c]))('%s is refused on signUp, nothing written', async (_name, c) => {
    const username = `bidi_${Math.random().toString(36).slice(2, 10)}`;
    const res = await t.gql(SignUpDocument, { input: { username, password: 'correct horse battery', displayName: `Support${c}Team`, birthDate: '1990-01-01' } });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.field).toBe('displayName');
    expect(await t.query('SELECT 1 FROM users WHERE username = $1', [username])).toEqual([]);
  });

  it.each(spoofs.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase()}`, c]))('%s is refused on updateProfile, the name unchanged', async (_name, c) => {
    const a = await t.makeUser({ displayName: 'Plain Name' });
    const res = await t.gql(UpdateProfileDocument, { input: { displayName: `gnp.exe${c}` } }, a.token);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.field).toBe('displayName');
    expect((await t.ok(UserByNameDocument, { username: a.username }, a.token)).user!.displayName).toBe('Plain Name');
  });

  it('right-to-left names and the marks that cannot reorder are kept as typed', async () => {
    const a = await t.makeUser();
    for (const name of ['שלום עולם', 'مرحبا', 'Ana \u200F(she)', 'x\u200Ey']) {
      const res = await t.ok(UpdateProfileDocument, { input: { displayName: name } }, a.token);
      expect(res.updateProfile.displayName).toBe(name);
    }
  });
});

describe('an aged-out request no longer lights the red dot', () => {
  afterEach(() => t.clock.reset());

  it('after the TTL its unread notification stops counting and showDot is false', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await sendRequest(a, b);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toEqual({
      pendingRequestCount: 1,
      unreadConversationCount: 0,
      unreadNotificationCount: 1,
      showDot: true,
    });
    t.clock.advance(t.config.requests.ttlDays * DAY + 60_000);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toEqual({
      pendingRequestCount: 0,
      unreadConversationCount: 0,
      unreadNotificationCount: 0,
      showDot: false,
    });
  });

  it('while the sender’s unread ACCEPTED notification still counts (the sender always sees its request)', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const r = await sendRequest(a, b);
    await t.app.services.requests.accept(b.id, r.id);
    t.clock.advance(t.config.requests.ttlDays * DAY + 60_000);
    expect((await t.ok(InboxBadgeDocument, {}, a.token)).inboxBadge).toMatchObject({ unreadNotificationCount: 1, showDot: true });
  });
});

describe('events(after:) drops across a block exactly what live delivery drops', () => {
  it('a message from a partner the viewer has since blocked is not in the catch-up', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const conversationId = await openConversation(t, a, b);
    const start = (await t.ok(EventsDocument, {}, b.token)).events.at(-1)?.cursor ?? null;
    await t.ok(SendMessageDocument, { input: { conversationId, text: 'while you were away' } }, a.token);
    const missed = (await t.ok(EventsDocument, { after: start }, b.token)).events;
    expect(missed.map((e) => e.type)).toEqual(['MESSAGE_RECEIVED', 'INBOX_BADGE_CHANGED']);

    await t.ok(BlockUserDocument, { userId: a.id }, b.token);
    const after = (await t.ok(EventsDocument, { after: start }, b.token)).events;
    expect(after.map((e) => e.type)).toEqual(['INBOX_BADGE_CHANGED', 'INBOX_BADGE_CHANGED']);
  });

  it('reactions and edits from a partner the viewer has since blocked are not in the catch-up either', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const conversationId = await openConversation(t, b, a);
    const mine = (await t.ok(SendMessageDocument, { input: { conversationId, text: 'my message' } }, b.token)).sendMessage;
    const theirs = (await t.ok(SendMessageDocument, { input: { conversationId, text: 'their mesage' } }, a.token)).sendMessage;
    const start = (await t.ok(EventsDocument, {}, b.token)).events.at(-1)?.cursor ?? null;
    await t.ok(ReactToMessageDocument, { messageId: mine.id, emoji: '👍' }, a.token);
    await t.ok(EditMessageDocument, { id: theirs.id, text: 'their message' }, a.token);
    expect((await t.ok(EventsDocument, { after: start }, b.token)).events.map((e) => e.type)).toEqual(['MESSAGE_REACTION', 'MESSAGE_EDITED']);
    await t.ok(BlockUserDocument, { userId: a.id }, b.token);
    expect((await t.ok(EventsDocument, { after: start }, b.token)).events.map((e) => e.type)).toEqual(['INBOX_BADGE_CHANGED']);
  });

  it('a run of hidden events longer than a page does not end the catch-up early', async () => {
    const [a, b, c] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const conversationId = await openConversation(t, a, b);
    const start = (await t.ok(EventsDocument, {}, b.token)).events.at(-1)?.cursor ?? null;
    for (const text of ['one', 'two', 'three']) await t.ok(SendMessageDocument, { input: { conversationId, text } }, a.token);
    await t.ok(BlockUserDocument, { userId: a.id }, b.token);
    const request = await sendRequest(c, b);
    // Pages of 2: the first six entries after `start` alternate a's messages (hidden now) and badges.
    const page = (await t.ok(EventsDocument, { after: start, first: 2 }, b.token)).events;
    expect(page.map((e) => e.type)).toEqual(['INBOX_BADGE_CHANGED', 'INBOX_BADGE_CHANGED']);
    const rest = (await t.ok(EventsDocument, { after: page[1].cursor, first: 3 }, b.token)).events;
    expect(rest.map((e) => [e.type, e.request?.id ?? null])).toEqual([
      ['INBOX_BADGE_CHANGED', null],
      ['INBOX_BADGE_CHANGED', null],
      ['MESSAGE_REQUEST_RECEIVED', request.id],
    ]);
  });

  it('the same from a partner who blocked the viewer: nothing the blocked account reads tells it apart from silence', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const conversationId = await openConversation(t, a, b);
    await t.ok(SendMessageDocument, { input: { conversationId, text: 'one' } }, b.token);
    await t.ok(MarkConversationSeenDocument, { conversationId }, a.token);
    expect((await t.ok(EventsDocument, {}, b.token)).events.map((e) => e.type)).toContain('MESSAGE_SEEN');
    await t.ok(BlockUserDocument, { userId: b.id }, a.token);
    const events = (await t.ok(EventsDocument, {}, b.token)).events;
    // b's own message still echoes to b; a's receipt is gone.
    expect(events.map((e) => e.type)).not.toContain('MESSAGE_SEEN');
    expect(events.filter((e) => e.type === 'MESSAGE_RECEIVED')).toHaveLength(1);
  });

  it('a request since withdrawn by a block is gone from the catch-up, as after a withdraw', async () => {
    const [a, b, w] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    await sendRequest(a, b);
    const withdrawn = await sendRequest(w, b);
    await t.ok(WithdrawMessageRequestDocument, { id: withdrawn.id }, w.token);
    await t.ok(BlockUserDocument, { userId: b.id }, a.token);
    const events = (await t.ok(EventsDocument, {}, b.token)).events;
    expect(events.filter((e) => e.type === 'MESSAGE_REQUEST_RECEIVED')).toEqual([]);
    expect(events.map((e) => e.type).every((type) => type === 'INBOX_BADGE_CHANGED')).toBe(true);
  });
});
