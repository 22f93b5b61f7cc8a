import { randomUUID } from 'node:crypto';
import { startTestApp, codeOf, type GqlResult, type TestApp, type TestUser } from '../support/app';
import {
  AcceptMessageRequestDocument,
  AcceptMessageRequestsDocument,
  BlockUserDocument,
  DeleteMessageRequestsDocument,
  FollowDocument,
  ReportsDocument,
  ReportUserDocument,
  SendMessageDocument,
  SendMessageRequestDocument,
  UnfollowDocument,
} from '../generated/graphql';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

function send(from: TestUser, to: TestUser) {
  return t.gql(SendMessageRequestDocument, { input: { recipientId: to.id, text: 'hi, loved your video' } }, from.token);
}

async function requestsFrom(sender: TestUser): Promise<number> {
  const [{ n }] = await t.query<{ n: string }>('SELECT count(*) AS n FROM message_requests WHERE sender_id = $1', [sender.id]);
  return Number(n);
}

describe('send rate limit (messages ~5/s, bursts of 10)', () => {
  it('answers RATE_LIMITED with retryAfter past the burst, per account, and lets sends through again later', async () => {
    const burst = t.config.limits.messageRateBurst;
    expect(burst).toBe(10);
    const sender = await t.makeUser();
    const recipients = await Promise.all(Array.from({ length: burst + 1 }, () => t.makeUser()));

    const results = await Promise.all(recipients.map((r) => send(sender, r)));
    const sent = results.filter((r) => !r.errors);
    const limited = results.filter((r) => codeOf(r) === 'RATE_LIMITED');
    // The window (burst / rate = 2 s) outlasts the parallel burst: exactly the burst passes.
    expect(sent).toHaveLength(burst);
    expect(limited).toHaveLength(1);
    const retryAfter = limited[0].errors![0].extensions!.retryAfter as number;
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(burst / t.config.limits.messageRatePerSecond));
    // A refused send wrote nothing.
    expect(await requestsFrom(sender)).toBe(sent.length);

    // Another account has its own budget.
    const other = await t.makeUser();
    expect((await send(other, recipients[0])).errors).toBeUndefined();

    // Once retryAfter has passed (real time: the limit is counted in PostgreSQL), sends go through.
    const unsent = recipients.filter((_, i) => results[i].errors);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    expect((await send(sender, unsent[0])).errors).toBeUndefined();
  });

  it('limits sendMessage the same way', async () => {
    const burst = t.config.limits.messageRateBurst;
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const request = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi' } }, a.token);
    await t.ok(AcceptMessageRequestDocument, { id: request.sendMessageRequest.id }, b.token);
    const conversationId = request.sendMessageRequest.conversation.id;
    const results = await Promise.all(
      Array.from({ length: burst + 1 }, (_, i) => t.gql(SendMessageDocument, { input: { conversationId, text: `message ${i}` } }, b.token)),
    );
    const limited = results.filter((r) => codeOf(r) === 'RATE_LIMITED');
    expect(limited).toHaveLength(1);
    expect(results.filter((r) => !r.errors)).toHaveLength(burst);
    expect(limited[0].errors![0].extensions!.retryAfter).toBeGreaterThan(0);
  });

  it('lets anonymous calls through to the resolver (UNAUTHENTICATED)', async () => {
    const someone = await t.makeUser();
    const res = await t.gql(SendMessageRequestDocument, { input: { recipientId: someone.id, text: 'hi' } });
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
  });
});

/** The refusal every limit answers: RATE_LIMITED with a whole number of seconds up to `window`. */
function expectRateLimited(res: GqlResult<unknown>, windowSeconds: number) {
  expect(codeOf(res)).toBe('RATE_LIMITED');
  expect(res.data).toBeNull();
  const retryAfter = res.errors![0].extensions!.retryAfter as number;
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
}

function makeUsers(n: number): Promise<TestUser[]> {
  return Promise.all(Array.from({ length: n }, () => t.makeUser()));
}

describe('reports per reporter (REPORT_RATE_PER_HOUR, SPEC §8)', () => {
  it('files exactly the limit of a 30-report burst, refuses the rest with retryAfter, and moderators see every filed report', async () => {
    const limit = t.config.limits.reportsPerHour;
    expect(limit).toBe(10);
    const moderator = await t.makeUser({ role: 'MODERATOR' });
    const reporter = await t.makeUser();
    const targets = await makeUsers(30);

    const results = await Promise.all(targets.map((u) => t.gql(ReportUserDocument, { input: { userId: u.id, reason: 'SPAM' } }, reporter.token)));
    const filed = results.filter((r) => !r.errors).map((r) => r.data!.reportUser.id);
    expect(filed).toHaveLength(limit);
    const refused = results.filter((r) => r.errors);
    expect(refused).toHaveLength(30 - limit);
    for (const r of refused) expectRateLimited(r, 3600);
    // A refused report wrote nothing.
    const rows = await t.query<{ id: string }>('SELECT id FROM reports WHERE reporter_id = $1', [reporter.id]);
    expect(rows.map((r) => r.id).sort()).toEqual([...filed].sort());

    const queue = await t.ok(ReportsDocument, { first: 40 }, moderator.token);
    const seen = queue.reports.edges.map((e) => e.node).filter((n) => n.reporter?.id === reporter.id);
    expect(seen.map((n) => n.id).sort()).toEqual([...filed].sort());

    // The budget is the reporter's own.
    const other = await t.makeUser();
    expect((await t.gql(ReportUserDocument, { input: { userId: targets[0].id, reason: 'SPAM' } }, other.token)).errors).toBeUndefined();
  });
});

describe('bulk accept/delete, counted per id (BULK_IDS_PER_HOUR, issue 14 item 7d)', () => {
  const strangers = (n: number) => Array.from({ length: n }, () => randomUUID());

  async function requestTo(recipient: TestUser): Promise<{ id: string; sender: TestUser }> {
    const sender = await t.makeUser();
    const res = await t.ok(SendMessageRequestDocument, { input: { recipientId: recipient.id, text: 'hi, loved your video' } }, sender.token);
    return { id: res.sendMessageRequest.id, sender };
  }

  async function requestRows(ids: string[]) {
    return t.query<{ status: string; deleted_at: Date | null }>(
      'SELECT status, deleted_at FROM message_requests WHERE id = ANY($1::uuid[]) ORDER BY id',
      [ids],
    );
  }

  it('refuses a call that would go over the budget whole, writing nothing; what is left can still be spent', async () => {
    const budget = t.config.limits.bulkIdsPerHour;
    expect(budget).toBe(300);
    const recipient = await t.makeUser();
    const requests = [];
    for (let i = 0; i < 4; i++) requests.push(await requestTo(recipient));
    const ids = requests.map((r) => r.id);

    // Every id counts, found or not (each is a transaction): spend all but three of the budget.
    const spent = await t.ok(AcceptMessageRequestsDocument, { ids: strangers(100) }, recipient.token);
    expect(spent.acceptMessageRequests).toEqual({ succeeded: [], notFound: expect.any(Array) });
    await t.app.services.limits.take('bulk', recipient.id, budget - 103); // the rest, without 197 more lookups

    const before = await requestRows(ids);
    expect(before.map((r) => r.status)).toEqual(['PENDING', 'PENDING', 'PENDING', 'PENDING']);
    expectRateLimited(await t.gql(AcceptMessageRequestsDocument, { ids }, recipient.token), 3600);
    expectRateLimited(await t.gql(DeleteMessageRequestsDocument, { ids, block: true }, recipient.token), 3600);
    // Nothing written: no request accepted or deleted, no conversation opened, no block, no notification.
    expect(await requestRows(ids)).toEqual(before);
    const [{ opened }] = await t.query<{ opened: string }>(
      `SELECT count(*) AS opened FROM conversations c JOIN message_requests r ON r.conversation_id = c.id
        WHERE r.id = ANY($1::uuid[]) AND c.opened_at IS NOT NULL`,
      [ids],
    );
    expect(Number(opened)).toBe(0);
    expect(await t.query('SELECT 1 FROM blocks WHERE blocker_id = $1', [recipient.id])).toHaveLength(0);
    expect(await t.query('SELECT 1 FROM notifications WHERE user_id = ANY($1::uuid[])', [requests.map((r) => r.sender.id)])).toHaveLength(0);

    // The refusals cost nothing: three distinct ids (a repeat counts once) still fit.
    const accepted = await t.ok(AcceptMessageRequestsDocument, { ids: [ids[0], ids[1], ids[2], ids[0]] }, recipient.token);
    expect(accepted.acceptMessageRequests.succeeded).toEqual(ids.slice(0, 3));
    expectRateLimited(await t.gql(DeleteMessageRequestsDocument, { ids: [ids[3]] }, recipient.token), 3600);
    expect(await requestRows([ids[3]])).toEqual([{ status: 'PENDING', deleted_at: null }]);

    // Another account has its own budget.
    const other = await t.makeUser();
    expect((await t.gql(AcceptMessageRequestsDocument, { ids: strangers(100) }, other.token)).errors).toBeUndefined();
  });

  it('is exact under a parallel burst, and does not charge a list refused as BAD_USER_INPUT', async () => {
    const budget = t.config.limits.bulkIdsPerHour;
    const user = await t.makeUser();
    expect(codeOf(await t.gql(AcceptMessageRequestsDocument, { ids: strangers(101) }, user.token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(DeleteMessageRequestsDocument, { ids: [] }, user.token))).toBe('BAD_USER_INPUT');

    // Ten ids left, then eleven parallel calls of one id each: exactly ten pass.
    await t.app.services.limits.take('bulk', user.id, budget - 10);
    const results = await Promise.all(Array.from({ length: 11 }, () => t.gql(DeleteMessageRequestsDocument, { ids: strangers(1) }, user.token)));
    expect(results.filter((r) => !r.errors)).toHaveLength(10);
    const refused = results.filter((r) => r.errors);
    expect(refused).toHaveLength(1);
    expectRateLimited(refused[0], 3600);
  });
});

describe('follows (FOLLOW_RATE_PER_MINUTE, SPEC §8)', () => {
  it('follows exactly the limit of a burst and refuses the rest; unfollow shares the budget; blocking is never limited', async () => {
    const limit = t.config.limits.followsPerMinute;
    expect(limit).toBe(60);
    const fan = await t.makeUser();
    const targets = await makeUsers(limit + 1);

    const results = await Promise.all(targets.map((u) => t.gql(FollowDocument, { userId: u.id }, fan.token)));
    expect(results.filter((r) => !r.errors)).toHaveLength(limit);
    const refused = results.filter((r) => r.errors);
    expect(refused).toHaveLength(1);
    expectRateLimited(refused[0], 60);
    const following = async () => (await t.query<{ followee_id: string }>('SELECT followee_id FROM follows WHERE follower_id = $1', [fan.id])).map((r) => r.followee_id);
    expect(await following()).toHaveLength(limit);

    const followed = targets.filter((_, i) => !results[i].errors);
    expectRateLimited(await t.gql(UnfollowDocument, { userId: followed[0].id }, fan.token), 60);
    expect(await following()).toContain(followed[0].id);

    // Safety actions stay available, and another account has its own budget.
    expect((await t.gql(BlockUserDocument, { userId: followed[1].id }, fan.token)).errors).toBeUndefined();
    const other = await t.makeUser();
    expect((await t.gql(FollowDocument, { userId: fan.id }, other.token)).errors).toBeUndefined();
  });
});
