import { startTestApp, codeOf, type TestApp, type TestUser } from '../support/app';
import {
  BlockUserDocument,
  DeleteMessageRequestDocument,
  DeletedMessageRequestsDocument,
  EventsDocument,
  FollowDocument,
  InboxBadgeDocument,
  MessageButtonDocument,
  MessageRequestsDocument,
  NotificationsDocument,
  OnInboxBadgeChangedDocument,
  RestoreMessageRequestDocument,
  SendMessageRequestDocument,
  TriageHiddenMessageRequestsDocument,
  TriageMessageRequestByIdDocument,
  TriageMessageRequestsDocument,
  TriageSentMessageRequestsDocument,
  UnblockUserDocument,
  WithdrawMessageRequestDocument,
} from '../generated/graphql';

/** Issue 15.5, 15.6 and 14.7e: recently deleted requests, "why am I seeing this", inert links. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000' });
});
afterAll(() => t.close());
afterEach(() => t.clock.reset());

const DAY = 86_400_000;

async function request(from: TestUser, to: TestUser, text: string) {
  return (await t.ok(SendMessageRequestDocument, { input: { recipientId: to.id, text } }, from.token)).sendMessageRequest;
}

const deleted = async (viewer: TestUser) => (await t.ok(DeletedMessageRequestsDocument, {}, viewer.token)).deletedMessageRequests;
const folder = async (viewer: TestUser) => (await t.ok(TriageMessageRequestsDocument, {}, viewer.token)).messageRequests;
const hiddenFolder = async (viewer: TestUser) => (await t.ok(TriageHiddenMessageRequestsDocument, {}, viewer.token)).hiddenMessageRequests;
const restore = (viewer: TestUser, id: string) => t.gql(RestoreMessageRequestDocument, { id }, viewer.token);

/** Everything the sender can read about its request and its account. */
async function senderView(sender: TestUser, recipient: TestUser, id: string) {
  return {
    sent: await t.ok(TriageSentMessageRequestsDocument, {}, sender.token),
    one: await t.ok(TriageMessageRequestByIdDocument, { id }, sender.token),
    notes: await t.ok(NotificationsDocument, {}, sender.token),
    events: await t.ok(EventsDocument, {}, sender.token),
    badge: await t.ok(InboxBadgeDocument, {}, sender.token),
    button: await t.ok(MessageButtonDocument, { username: recipient.username }, sender.token),
  };
}

describe('recently deleted requests', () => {
  it('restore brings a deleted request back as it was; the sender’s view never changes', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const older = await request(await t.makeUser(), b, 'an older one');
    const sent = await request(a, b, 'hello, remember me?');
    const before = await folder(b);
    expect(before.edges.map((e) => e.node.id)).toEqual([sent.id, older.id]);
    const senderBefore = await senderView(a, b, sent.id);
    expect(senderBefore.one.messageRequest).toMatchObject({ status: 'PENDING', context: null });

    await t.ok(DeleteMessageRequestDocument, { id: sent.id }, b.token);
    expect((await folder(b)).edges.map((e) => e.node.id)).toEqual([older.id]);
    const bin = await deleted(b);
    expect(bin.totalCount).toBe(1);
    expect(bin.edges[0].node).toMatchObject({ id: sent.id, text: 'hello, remember me?', status: 'PENDING', sender: { id: a.id } });
    expect(await senderView(a, b, sent.id)).toEqual(senderBefore);

    // The badge reflects the restore at once (inboxBadgeChanged to the recipient).
    const badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, b.token);
    const restored = await restore(b, sent.id);
    expect(restored.errors).toBeUndefined();
    expect(restored.data!.restoreMessageRequest).toMatchObject({ id: sent.id, text: 'hello, remember me?', status: 'PENDING' });
    expect((await badge.next()).inboxBadgeChanged.badge.pendingRequestCount).toBe(2);
    await badge.close();

    // Back in the folder in its old place, with everything it had; gone from recently deleted.
    expect(await folder(b)).toEqual(before);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge.pendingRequestCount).toBe(2);
    expect((await deleted(b)).totalCount).toBe(0);
    expect(await senderView(a, b, sent.id)).toEqual(senderBefore);
    // Restoring again: it is no longer deleted.
    expect(codeOf(await restore(b, sent.id))).toBe('NOT_FOUND');
  });

  it('a hidden request comes back to hidden requests, and restoring it leaves the badge alone', async () => {
    const b = await t.makeUser();
    const fresh = await t.makeUser({ ageHours: 2 });
    const sent = await request(fresh, b, 'new here');
    await t.ok(DeleteMessageRequestDocument, { id: sent.id }, b.token);
    expect((await hiddenFolder(b)).totalCount).toBe(0);
    expect((await deleted(b)).edges[0].node.context).toMatchObject({ hiddenReason: 'NEW_ACCOUNT' });
    expect((await restore(b, sent.id)).errors).toBeUndefined();
    const hidden = await hiddenFolder(b);
    expect(hidden.edges.map((e) => e.node.id)).toEqual([sent.id]);
    expect((await folder(b)).totalCount).toBe(0);
    expect((await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge).toMatchObject({ pendingRequestCount: 0, showDot: false });
  });

  it('once it would have expired, a deleted request is gone: not listed, NOT_FOUND to restore', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const sent = await request(a, b, 'short-lived');
    await t.ok(DeleteMessageRequestDocument, { id: sent.id }, b.token);
    t.clock.advance(29 * DAY);
    expect((await deleted(b)).totalCount).toBe(1);
    t.clock.advance(DAY + 1000);
    expect((await deleted(b)).totalCount).toBe(0);
    expect(codeOf(await restore(b, sent.id))).toBe('NOT_FOUND');
    expect((await folder(b)).totalCount).toBe(0);
  });

  it('only the recipient lists or restores; the sender gets the same NOT_FOUND deleted or not', async () => {
    const [a, b, mallory] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const sent = await request(a, b, 'private words');
    const kept = await request(await t.makeUser(), b, 'still in the folder');
    await t.ok(DeleteMessageRequestDocument, { id: sent.id }, b.token);
    expect((await deleted(mallory)).totalCount).toBe(0);
    expect((await deleted(a)).totalCount).toBe(0);
    for (const who of [mallory, a]) {
      const res = await restore(who, sent.id);
      expect(codeOf(res)).toBe('NOT_FOUND');
      expect(JSON.stringify(res)).not.toContain('private words');
    }
    // The sender asking about a request that was not deleted hears exactly the same.
    const notDeleted = await request(a, mallory, 'hi');
    expect((await restore(a, notDeleted.id)).errors).toEqual((await restore(a, sent.id)).errors);
    expect(codeOf(await restore(b, kept.id))).toBe('NOT_FOUND');
    expect(codeOf(await restore(b, 'not-an-id'))).toBe('NOT_FOUND');
    expect((await deleted(b)).edges.map((e) => e.node.id)).toEqual([sent.id]);
  });

  it('withdrawn or blocked: not listed and not restorable', async () => {
    const b = await t.makeUser();
    const [withdrawer, blocked] = [await t.makeUser(), await t.makeUser()];
    const w = await request(withdrawer, b, 'take it back');
    const x = await request(blocked, b, 'blocked soon');
    await t.ok(DeleteMessageRequestDocument, { id: w.id }, b.token);
    await t.ok(DeleteMessageRequestDocument, { id: x.id }, b.token);
    expect((await deleted(b)).totalCount).toBe(2);
    await t.ok(WithdrawMessageRequestDocument, { id: w.id }, withdrawer.token);
    await t.ok(BlockUserDocument, { userId: blocked.id }, b.token);
    expect((await deleted(b)).totalCount).toBe(0);
    expect(codeOf(await restore(b, w.id))).toBe('NOT_FOUND');
    expect(codeOf(await restore(b, x.id))).toBe('NOT_FOUND');
    // Unblocking does not bring it back by itself; the recipient may restore it on purpose.
    await t.ok(UnblockUserDocument, { userId: blocked.id }, b.token);
    expect((await folder(b)).totalCount).toBe(0);
    expect((await deleted(b)).edges.map((e) => e.node.id)).toEqual([x.id]);
  });

  it('pages newest first with opaque cursors', async () => {
    const b = await t.makeUser();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.unshift((await request(await t.makeUser(), b, `n${i}`)).id);
    for (const id of ids) await t.ok(DeleteMessageRequestDocument, { id }, b.token);
    const first = await t.ok(DeletedMessageRequestsDocument, { first: 2 }, b.token);
    expect(first.deletedMessageRequests.edges.map((e) => e.node.id)).toEqual(ids.slice(0, 2));
    expect(first.deletedMessageRequests.pageInfo.hasNextPage).toBe(true);
    const rest = await t.ok(DeletedMessageRequestsDocument, { first: 2, after: first.deletedMessageRequests.pageInfo.endCursor }, b.token);
    expect(rest.deletedMessageRequests.edges.map((e) => e.node.id)).toEqual(ids.slice(2));
  });
});

describe('why am I seeing this', () => {
  it('a new account sending a link: hidden, NEW_ACCOUNT, and the link span', async () => {
    const b = await t.makeUser();
    const fresh = await t.makeUser({ ageHours: 1 });
    const text = 'win big 🎉 at spam.de/win today';
    const sent = await request(fresh, b, text);
    const hidden = await hiddenFolder(b);
    expect(hidden.edges.map((e) => e.node.id)).toEqual([sent.id]);
    const node = hidden.edges[0].node;
    expect(node.context).toEqual({ senderAccountAge: 'NEW', senderFollowsYou: false, mutualFollowCount: 0, hiddenReason: 'NEW_ACCOUNT' });
    expect(node.linkSpans.map((s) => text.slice(s.start, s.end))).toEqual(['spam.de/win']);
  });

  it('an established account: links the old matcher missed go to hidden requests as LINK', async () => {
    const b = await t.makeUser();
    const texts = ['spam.de/win', 'see goo.gl/abc', 'at 203.0.113.7', 'spam．com'];
    for (const text of texts) await request(await t.makeUser({ ageHours: 24 * 400 }), b, text);
    const hidden = await hiddenFolder(b);
    expect(hidden.totalCount).toBe(texts.length);
    for (const e of hidden.edges) {
      expect(e.node.context).toEqual({ senderAccountAge: 'OVER_A_YEAR', senderFollowsYou: false, mutualFollowCount: 0, hiddenReason: 'LINK' });
      expect(e.node.linkSpans).toHaveLength(1);
    }
    expect((await folder(b)).totalCount).toBe(0);
  });

  it('a follower with mutual follows, in the main folder: no hidden reason, no links', async () => {
    const b = await t.makeUser();
    const sender = await t.makeUser({ ageHours: 24 * 100 });
    const [x, y, z] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    // b follows x and y, who follow the sender; z follows the sender but b does not follow z.
    for (const [who, whom] of [[b, x], [b, y], [x, sender], [y, sender], [z, sender], [sender, b]] as const) {
      await t.ok(FollowDocument, { userId: whom.id }, who.token);
    }
    const stranger = await t.makeUser({ ageHours: 24 * 10 });
    await request(stranger, b, 'who dis');
    const sent = await request(sender, b, 'e.g. 3.14 is pi');
    const page = await folder(b);
    expect(page.edges.map((e) => [e.node.id, e.node.context, e.node.linkSpans])).toEqual([
      [sent.id, { senderAccountAge: 'LESS_THAN_A_YEAR', senderFollowsYou: true, mutualFollowCount: 2, hiddenReason: null }, []],
      [expect.any(String), { senderAccountAge: 'LESS_THAN_A_MONTH', senderFollowsYou: false, mutualFollowCount: 0, hiddenReason: null }, []],
    ]);
  });

  it('the sender gets no context (it must not learn its request was hidden), but the same link spans', async () => {
    const b = await t.makeUser();
    const fresh = await t.makeUser({ ageHours: 1 });
    const sent = await request(fresh, b, 'goo.gl/abc');
    const mine = (await t.ok(TriageMessageRequestByIdDocument, { id: sent.id }, fresh.token)).messageRequest;
    expect(mine.context).toBeNull();
    expect(mine.linkSpans).toEqual([{ start: 0, end: 10 }]);
    const sentList = await t.ok(TriageSentMessageRequestsDocument, {}, fresh.token);
    expect(sentList.sentMessageRequests.edges[0].node.context).toBeNull();
    const theirs = (await t.ok(TriageMessageRequestByIdDocument, { id: sent.id }, b.token)).messageRequest;
    expect(theirs.context).toMatchObject({ hiddenReason: 'NEW_ACCOUNT' });
  });
});

describe('the event log and folders agree', () => {
  it('restoring writes no event for the sender and one badge event for the recipient', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const sent = await request(a, b, 'hey');
    await t.ok(DeleteMessageRequestDocument, { id: sent.id }, b.token);
    const [aBefore, bBefore] = [await t.ok(EventsDocument, {}, a.token), await t.ok(EventsDocument, {}, b.token)];
    await t.ok(RestoreMessageRequestDocument, { id: sent.id }, b.token);
    expect(await t.ok(EventsDocument, {}, a.token)).toEqual(aBefore);
    const bAfter = (await t.ok(EventsDocument, {}, b.token)).events;
    // Compared by cursor: the restored request's own MESSAGE_REQUEST_RECEIVED shows again in
    // the catch-up (it shows what the viewer can see now), but it is no new event.
    const last = Math.max(...bBefore.events.map((e) => Number(e.cursor)));
    expect(bAfter.filter((e) => Number(e.cursor) > last).map((e) => e.type)).toEqual(['INBOX_BADGE_CHANGED']);
    expect((await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests.edges[0].node.id).toBe(sent.id);
  });
});
