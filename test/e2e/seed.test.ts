import { startTestApp, type TestApp } from '../support/app';
import { seed, DEMO_PASSWORD } from '../../src/scripts/seed';
import {
  DeletedMessageRequestsDocument,
  HiddenMessageRequestsDocument,
  InboxBadgeDocument,
  InboxDocument,
  LogInDocument,
  MeDocument,
  MessageButtonDocument,
  MessageRequestsDocument,
  SentMessageRequestsDocument,
  TriageHiddenMessageRequestsDocument,
} from '../generated/graphql';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

async function logIn(username: string): Promise<string> {
  const res = await t.ok(LogInDocument, { input: { username, password: DEMO_PASSWORD } });
  return res.logIn.token;
}

describe('npm run seed', () => {
  it('fills the demo data, and a second run changes nothing and does not fail', async () => {
    const first = await seed(t.app.services, t.app.dataSource);
    expect(first.existing).toEqual([]);
    expect(first.created).toContain('maya');

    const countsBefore = await t.query<{ users: string; requests: string; messages: string }>(
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM message_requests) AS requests, (SELECT count(*) FROM messages) AS messages`,
    );
    const second = await seed(t.app.services, t.app.dataSource);
    expect(second.created).toEqual([]);
    expect(second.existing).toEqual(first.created);
    const countsAfter = await t.query(
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM message_requests) AS requests, (SELECT count(*) FROM messages) AS messages`,
    );
    expect(countsAfter).toEqual(countsBefore);
  });

  it("puts pending requests in maya's folder (one from a verified account) and two in hidden requests", async () => {
    const maya = await logIn('maya');
    const folder = await t.ok(MessageRequestsDocument, { first: 20 }, maya);
    expect(folder.messageRequests.totalCount).toBe(3);
    const senders = folder.messageRequests.edges.map((e) => e.node.sender);
    expect(senders.map((s) => s.username).sort()).toEqual(['jon', 'nova', 'priya']);
    expect(senders.find((s) => s.username === 'nova')!.verified).toBe(true);
    expect(folder.messageRequests.edges.every((e) => e.node.status === 'PENDING')).toBe(true);

    const hidden = await t.ok(HiddenMessageRequestsDocument, {}, maya);
    expect(hidden.hiddenMessageRequests.edges.map((e) => e.node.sender.username).sort()).toEqual(['dana', 'fresh.face', 'spam.links']);
  });

  it('shows the controls: a hidden-word match, a restorable deleted request, a muted conversation', async () => {
    const maya = await logIn('maya');
    const hidden = await t.ok(TriageHiddenMessageRequestsDocument, {}, maya);
    const dana = hidden.hiddenMessageRequests.edges.find((e) => e.node.sender.username === 'dana')!.node;
    expect(dana.context!.hiddenReason).toBe('HIDDEN_WORD');
    const deleted = await t.ok(DeletedMessageRequestsDocument, {}, maya);
    expect(deleted.deletedMessageRequests.edges.map((e) => e.node.sender.username)).toEqual(['ravi']);
    const ravi = await logIn('ravi');
    expect((await t.ok(SentMessageRequestsDocument, {}, ravi)).sentMessageRequests.edges.map((e) => e.node.status)).toEqual(['PENDING']);
    const inbox = (await t.ok(InboxDocument, { first: 20 }, maya)).conversations.edges.map((e) => e.node);
    const kai = inbox.find((c) => c.otherParticipant.username === 'kai')!;
    // His intro and his message: both unread (accepting marks nothing seen).
    expect(kai).toMatchObject({ muted: true, unreadCount: 2 });
    // Only theo's unread conversation counts: kai's is muted.
    expect((await t.ok(InboxBadgeDocument, {}, maya)).inboxBadge).toMatchObject({ unreadConversationCount: 1, pendingRequestCount: 3 });
  });

  it('gives maya an open conversation with theo with one unread message', async () => {
    const maya = await logIn('maya');
    const inbox = await t.ok(InboxDocument, { first: 20 }, maya);
    expect(inbox.conversations.edges.map((e) => e.node.otherParticipant.username).sort()).toEqual(['kai', 'theo']);
    const conversation = inbox.conversations.edges.find((e) => e.node.otherParticipant.username === 'theo')!.node;
    expect(conversation.isRequest).toBe(false);
    expect(conversation.unreadCount).toBe(1);
    expect(conversation.lastMessage?.text).toBe('Also: any tips for the approach?');
  });

  it('has a 16-year-old on FOLLOWING, a 15-year-old on NOBODY and a FOLLOWING-only adult', async () => {
    const leo = await t.ok(MeDocument, {}, await logIn('leo.16'));
    expect(leo.me.directMessagePolicy).toBe('FOLLOWING');
    const sam = await t.ok(MeDocument, {}, await logIn('sam.15'));
    expect(sam.me.directMessagePolicy).toBe('NOBODY');
    const quinn = await t.ok(MeDocument, {}, await logIn('quinn'));
    expect(quinn.me.directMessagePolicy).toBe('FOLLOWING');

    const age = (birthDate: string) => {
      const now = t.clock.now();
      const [y, m, d] = birthDate.split('-').map(Number);
      return now.getUTCFullYear() - y - (now.getUTCMonth() + 1 < m || (now.getUTCMonth() + 1 === m && now.getUTCDate() < d) ? 1 : 0);
    };
    expect(age(leo.me.birthDate!)).toBe(16);
    expect(age(sam.me.birthDate!)).toBe(15);

    // The Message buttons a client would show: leo follows maya only (so she reaches him
    // directly, no request needed); quinn follows theo only.
    const maya = await logIn('maya');
    const jon = await logIn('jon');
    expect((await t.ok(MessageButtonDocument, { username: 'leo.16' }, maya)).user!.messageButton.state).toBe('MESSAGE');
    expect((await t.ok(MessageButtonDocument, { username: 'leo.16' }, jon)).user!.messageButton.reason).toBe('NOT_FOLLOWED_BY_RECIPIENT');
    expect((await t.ok(MessageButtonDocument, { username: 'quinn' }, jon)).user!.messageButton.reason).toBe('NOT_FOLLOWED_BY_RECIPIENT');
    expect((await t.ok(MessageButtonDocument, { username: 'sam.15' }, maya)).user!.messageButton.reason).toBe('RECIPIENT_UNAVAILABLE');
  });
});
