import { startTestApp, codeOf, type TestApp, type TestUser } from '../support/app';
import {
  AddHiddenWordsDocument,
  HiddenMessageRequestsDocument,
  HiddenWordsDocument,
  InboxBadgeDocument,
  MessageRequestsDocument,
  NotificationsDocument,
  OnInboxBadgeChangedDocument,
  OnMessageRequestReceivedDocument,
  RemoveHiddenWordsDocument,
  SendMessageRequestDocument,
  SentMessageRequestsDocument,
  SetHideOffensiveRequestsDocument,
  UserByNameDocument,
} from '../generated/graphql';

/**
 * Hidden words (SPEC §8, issue 15.3): a recipient's own words and phrases, and the
 * built-in offensive-terms option, send matching requests to hidden requests; the sender
 * cannot tell.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000' });
});
afterAll(() => t.close());
afterEach(() => t.clock.reset());

const storedCount = async (user: TestUser) =>
  (await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM hidden_words WHERE user_id = $1`, [user.id]))[0].n;

const send = async (to: TestUser, text: string) => {
  const from = await t.makeUser();
  const res = await t.ok(SendMessageRequestDocument, { input: { recipientId: to.id, text } }, from.token);
  return { from, request: res.sendMessageRequest };
};

/** Where a request landed for its recipient: the Requests folder or hidden requests. */
async function folderOf(recipient: TestUser, requestId: string): Promise<'requests' | 'hidden' | 'none'> {
  const [visible, hidden] = await Promise.all([t.ok(MessageRequestsDocument, {}, recipient.token), t.ok(HiddenMessageRequestsDocument, {}, recipient.token)]);
  if (visible.messageRequests.edges.some((e) => e.node.id === requestId)) return 'requests';
  if (hidden.hiddenMessageRequests.edges.some((e) => e.node.id === requestId)) return 'hidden';
  return 'none';
}

describe('managing the list', () => {
  it('needs a signed-in account', async () => {
    expect(codeOf(await t.gql(HiddenWordsDocument, {}))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(AddHiddenWordsDocument, { words: ['cafe'] }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(RemoveHiddenWordsDocument, { words: ['cafe'] }))).toBe('UNAUTHENTICATED');
  });

  it('refuses bad entries with BAD_USER_INPUT and writes nothing', async () => {
    const b = await t.makeUser();
    await t.ok(AddHiddenWordsDocument, { words: ['keep'] }, b.token);
    for (const words of [[], ['x'.repeat(101)], ['ok', '   '], ['ok', '!!! ???'], ['tab\there'], ['ok', 'nul\u0000'], Array.from({ length: 201 }, (_, i) => `w${i}`)]) {
      const res = await t.gql(AddHiddenWordsDocument, { words }, b.token);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.status).toBeLessThan(500);
      expect(codeOf(await t.gql(RemoveHiddenWordsDocument, { words }, b.token))).toBe('BAD_USER_INPUT');
    }
    expect(await storedCount(b)).toBe(1);
    // 100 characters is the longest entry; an emoji is one character.
    await t.ok(AddHiddenWordsDocument, { words: ['é'.repeat(100), '🍆'] }, b.token);
    expect(await storedCount(b)).toBe(3);
  });

  it('keeps entries as typed, once however spelt, newest first; removes them as they match', async () => {
    const b = await t.makeUser();
    const first = await t.ok(AddHiddenWordsDocument, { words: ['Café', '  free   money '] }, b.token);
    expect(first.addHiddenWords).toEqual({ words: ['Café', 'free money'], limit: 200, hideOffensiveRequests: true });
    t.clock.advance(1000);
    const again = await t.ok(AddHiddenWordsDocument, { words: ['CAFE', 'cafe!', 'spam'] }, b.token);
    expect(again.addHiddenWords.words).toEqual(['spam', 'Café', 'free money']);
    const removed = await t.ok(RemoveHiddenWordsDocument, { words: ['CAFÉ', 'never listed'] }, b.token);
    expect(removed.removeHiddenWords.words).toEqual(['spam', 'free money']);
    expect((await t.ok(HiddenWordsDocument, {}, b.token)).hiddenWords.words).toEqual(['spam', 'free money']);
    // Another account's list is its own.
    const c = await t.makeUser();
    expect((await t.ok(HiddenWordsDocument, {}, c.token)).hiddenWords).toEqual({ words: [], limit: 200, hideOffensiveRequests: true });
  });

  it('holds at most 200 entries, exactly, also under parallel adds; a call past the limit adds nothing', async () => {
    const b = await t.makeUser();
    await t.ok(AddHiddenWordsDocument, { words: Array.from({ length: 195 }, (_, i) => `word${i}`) }, b.token);
    const over = await t.gql(AddHiddenWordsDocument, { words: ['new1', 'new2', 'new3', 'new4', 'new5', 'new6'] }, b.token);
    expect(codeOf(over)).toBe('BAD_USER_INPUT');
    expect(await storedCount(b)).toBe(195);
    // Entries already listed do not count twice.
    await t.ok(AddHiddenWordsDocument, { words: ['WORD1', 'word2', 'new1'] }, b.token);
    expect(await storedCount(b)).toBe(196);

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => t.gql(AddHiddenWordsDocument, { words: [`race${i}`] }, b.token)));
    expect(results.filter((r) => !r.errors).length).toBe(4);
    expect(results.filter((r) => codeOf(r) === 'BAD_USER_INPUT').length).toBe(6);
    expect(await storedCount(b)).toBe(200);
    // Making room makes room.
    await t.ok(RemoveHiddenWordsDocument, { words: ['word0'] }, b.token);
    await t.ok(AddHiddenWordsDocument, { words: ['last'] }, b.token);
    expect(await storedCount(b)).toBe(200);
  });

  it('the built-in option is on by default, set through updateMessagingSettings, and private', async () => {
    const b = await t.makeUser();
    const other = await t.makeUser();
    const off = await t.ok(SetHideOffensiveRequestsDocument, { policy: 'EVERYONE', on: false }, b.token);
    expect(off.updateMessagingSettings).toMatchObject({ hideOffensiveRequests: false, directMessagePolicy: 'EVERYONE' });
    expect((await t.ok(HiddenWordsDocument, {}, b.token)).hiddenWords.hideOffensiveRequests).toBe(false);
    // Omitted: unchanged.
    const same = await t.ok(SetHideOffensiveRequestsDocument, { policy: 'FOLLOWING' }, b.token);
    expect(same.updateMessagingSettings).toMatchObject({ hideOffensiveRequests: false, directMessagePolicy: 'FOLLOWING' });
    const byOther = await t.ok(UserByNameDocument, { username: b.username }, other.token);
    expect(JSON.stringify(byOther)).not.toMatch(/hideOffensiveRequests/);
    const seen = await t.gql<{ user: { hideOffensiveRequests: boolean | null } }, unknown>(
      'query($u: String!) { user(username: $u) { hideOffensiveRequests } }',
      { u: b.username },
      other.token,
    );
    expect(seen.data?.user.hideOffensiveRequests).toBeNull();
  });
});

describe('a matching request goes to hidden requests', () => {
  it('a listed word in any case or accent: hidden, no notification, no event, no badge; the sender sees PENDING', async () => {
    const b = await t.makeUser();
    await t.ok(AddHiddenWordsDocument, { words: ['cafe'] }, b.token);
    const received = await t.subscribe(OnMessageRequestReceivedDocument, {}, b.token);
    const badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, b.token);

    const { from, request } = await send(b, 'Meet me at the CAFÉ!');
    expect(request.status).toBe('PENDING');
    expect(await folderOf(b, request.id)).toBe('hidden');
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.totalCount).toBe(0);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toEqual({
      pendingRequestCount: 0,
      unreadConversationCount: 0,
      unreadNotificationCount: 0,
      showDot: false,
    });
    expect((await t.ok(NotificationsDocument, {}, b.token)).notifications.edges).toEqual([]);
    // The sender's view is the same as for any request.
    const sent = await t.ok(SentMessageRequestsDocument, {}, from.token);
    expect(sent.sentMessageRequests.edges.map((e) => [e.node.id, e.node.status])).toEqual([[request.id, 'PENDING']]);

    // A visible request afterwards is the first thing either socket hears: the hidden one sent nothing.
    const { request: visible } = await send(b, 'loved your video');
    expect((await received.next()).messageRequestReceived.request.id).toBe(visible.id);
    expect((await badge.next()).inboxBadgeChanged.badge).toMatchObject({ pendingRequestCount: 1 });
    expect(received.events).toHaveLength(1);
    await Promise.all([received.close(), badge.close()]);
  });

  it('whole words only: "cafeteria" does not match "cafe"', async () => {
    const b = await t.makeUser();
    await t.ok(AddHiddenWordsDocument, { words: ['cafe'] }, b.token);
    const { request } = await send(b, 'see you at the cafeteria');
    expect(await folderOf(b, request.id)).toBe('requests');
  });

  it('phrases match whatever the spacing, case and punctuation: "free money" catches "FREE   money!"', async () => {
    const b = await t.makeUser();
    await t.ok(AddHiddenWordsDocument, { words: ['free money'] }, b.token);
    const caught = await send(b, 'Get FREE   money! now');
    const spared = await send(b, 'free of money worries');
    expect(await folderOf(b, caught.request.id)).toBe('hidden');
    expect(await folderOf(b, spared.request.id)).toBe('requests');
  });

  it('a removed word no longer hides', async () => {
    const b = await t.makeUser();
    await t.ok(AddHiddenWordsDocument, { words: ['crypto'] }, b.token);
    await t.ok(RemoveHiddenWordsDocument, { words: ['CRYPTO'] }, b.token);
    const { request } = await send(b, 'crypto tips?');
    expect(await folderOf(b, request.id)).toBe('requests');
  });

  it('the built-in list catches a common offensive term when on, and not when off', async () => {
    const on = await t.makeUser();
    const off = await t.makeUser();
    await t.ok(SetHideOffensiveRequestsDocument, { policy: 'EVERYONE', on: false }, off.token);
    const text = 'you are a fucking idiot';
    const toOn = await send(on, text);
    const toOff = await send(off, text);
    expect(toOn.request.status).toBe('PENDING');
    expect(await folderOf(on, toOn.request.id)).toBe('hidden');
    expect(await folderOf(off, toOff.request.id)).toBe('requests');
    // Turned back on, it applies to the next request.
    await t.ok(SetHideOffensiveRequestsDocument, { policy: 'EVERYONE', on: true }, off.token);
    expect(await folderOf(off, (await send(off, text)).request.id)).toBe('hidden');
  });
});

describe('statements', () => {
  it('a send to an account with a full list costs what any send costs (send-statements.test.ts: 11)', async () => {
    const b = await t.makeUser();
    await t.ok(AddHiddenWordsDocument, { words: Array.from({ length: 200 }, (_, i) => `listed phrase ${i}`) }, b.token);
    const a = await t.makeUser();
    t.sql.reset();
    const res = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello there', clientMessageId: 'r1' } }, a.token);
    expect(t.sql.count).toBe(11);
    expect(await folderOf(b, res.sendMessageRequest.id)).toBe('requests');
  });
});
