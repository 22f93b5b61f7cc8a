import { randomUUID } from 'node:crypto';
import { getNamedType, isLeafType, isObjectType, isNonNullType, type GraphQLObjectType } from 'graphql';
import { startTestApp, codeOf, type TestApp, type TestUser } from '../support/app';
import {
  BanFromMessagingDocument,
  LiftMessagingBanDocument,
  ReportsDocument,
  ReportUserAskingForModeratorFieldsDocument,
  ReportUserDocument,
  AcceptMessageRequestDocument,
  ResolveReportDocument,
  SendMessageDocument,
  SendMessageRequestDocument,
  SetVerifiedDocument,
  UserByNameDocument,
} from '../generated/graphql';

let t: TestApp;
let moderator: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  moderator = await t.makeUser({ role: 'MODERATOR' });
});
afterAll(() => t.close());

const DAY = 86_400_000;

function report(reporter: TestUser, userId: string, extra: { messageId?: string; details?: string; alsoBlock?: boolean } = {}) {
  return t.gql(ReportUserDocument, { input: { userId, reason: 'SPAM', ...extra } }, reporter.token);
}

async function reportOk(reporter: TestUser, userId: string, extra: { messageId?: string; details?: string; alsoBlock?: boolean } = {}) {
  const res = await report(reporter, userId, extra);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.reportUser;
}

function sendRequest(from: TestUser, to: TestUser, text = 'hello there') {
  return t.gql(SendMessageRequestDocument, { input: { recipientId: to.id, text } }, from.token);
}

/** A request from `from` to `to`: returns the conversation and its intro message. */
async function introMessage(from: TestUser, to: TestUser, text = 'hello there') {
  const res = await sendRequest(from, to, text);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  const [row] = await t.query<{ message_id: string; conversation_id: string }>(
    'SELECT message_id, conversation_id FROM message_requests WHERE id = $1',
    [res.data!.sendMessageRequest.id],
  );
  return { messageId: row.message_id, conversationId: row.conversation_id };
}

/** Appends messages to a conversation (setup only: sendMessage belongs to another module). */
async function appendMessages(conversationId: string, senders: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const senderId of senders) {
    const [{ id }] = await t.query<{ id: string }>(
      `WITH c AS (UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq)
       INSERT INTO messages (conversation_id, seq, sender_id, text, created_at)
       SELECT $1, c.last_seq, $2, 'message ' || c.last_seq, now() FROM c RETURNING id`,
      [conversationId, senderId],
    );
    ids.push(id);
  }
  return ids;
}

/** `n` accounts (with `overrides`), each sent a message request by `target`: contacted by it. */
async function contactedBy(target: TestUser, n: number, overrides: Parameters<TestApp['makeUser']>[0] = {}): Promise<TestUser[]> {
  const users = await Promise.all(Array.from({ length: n }, () => t.makeUser(overrides)));
  // One after another: the target's sends stay well inside its send rate limit.
  for (const u of users) await introMessage(target, u);
  return users;
}

/** Sends `to` a request that `target` accepts without writing: a conversation, no contact from `target`. */
async function acceptedFrom(target: TestUser, from: TestUser): Promise<string> {
  const res = await sendRequest(from, target);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return (await t.ok(AcceptMessageRequestDocument, { id: res.data!.sendMessageRequest.id }, target.token)).acceptMessageRequest.id;
}

async function banRows(userId: string) {
  return t.query<{ until: Date | null; source: string }>('SELECT until, source FROM messaging_bans WHERE user_id = $1', [userId]);
}

async function activeBan(userId: string) {
  return t.app.services.bans.activeBan(userId);
}

async function snapshot() {
  const [reports, bans, users] = await Promise.all([
    t.query('SELECT id, status, resolution FROM reports ORDER BY id'),
    t.query('SELECT user_id, until, source FROM messaging_bans ORDER BY user_id'),
    t.query('SELECT id, verified FROM users ORDER BY id'),
  ]);
  return JSON.stringify({ reports, bans, users });
}

/** The whole queue for `status`, walked page by page (oldest first). */
async function allReports(status: 'OPEN' | 'RESOLVED' = 'OPEN', first = 40) {
  const nodes = [];
  let after: string | null | undefined;
  for (;;) {
    const page = await t.ok(ReportsDocument, { status, first, after }, moderator.token);
    nodes.push(...page.reports.edges.map((e) => e.node));
    if (!page.reports.pageInfo.hasNextPage) return nodes;
    after = page.reports.pageInfo.endCursor;
  }
}

async function reportCount(): Promise<number> {
  const [{ n }] = await t.query<{ n: string }>('SELECT count(*) AS n FROM reports');
  return Number(n);
}

describe('moderator-only operations', () => {
  it('answer UNAUTHENTICATED without a token and FORBIDDEN to everyone else, changing nothing', async () => {
    const user = await t.makeUser();
    const target = await t.makeUser();
    const reporter = await t.makeUser();
    const filed = await reportOk(reporter, target.id);
    await t.ok(BanFromMessagingDocument, { userId: target.id }, moderator.token);
    const before = await snapshot();

    const calls: Array<[string, (token?: string) => ReturnType<typeof t.gql>]> = [
      ['reports', (tok) => t.gql(ReportsDocument, {}, tok)],
      ['resolveReport', (tok) => t.gql(ResolveReportDocument, { id: filed.id, action: 'BAN' }, tok)],
      ['banFromMessaging', (tok) => t.gql(BanFromMessagingDocument, { userId: user.id }, tok)],
      ['liftMessagingBan', (tok) => t.gql(LiftMessagingBanDocument, { userId: target.id }, tok)],
      ['setVerified', (tok) => t.gql(SetVerifiedDocument, { userId: user.id, verified: true }, tok)],
    ];
    for (const [name, call] of calls) {
      const anonymous = await call();
      expect([name, codeOf(anonymous)]).toEqual([name, 'UNAUTHENTICATED']);
      for (const who of [user, target, reporter]) {
        const res = await call(who.token);
        expect([name, codeOf(res)]).toEqual([name, 'FORBIDDEN']);
        expect(res.data).toBeNull();
      }
    }
    // Even with arguments that would be refused anyway, the role is checked first.
    expect(codeOf(await t.gql(BanFromMessagingDocument, { userId: randomUUID(), until: '2000-01-01T00:00:00.000Z' }, user.token))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql(ResolveReportDocument, { id: 'nope', action: 'DISMISS' }, user.token))).toBe('FORBIDDEN');
    expect(await snapshot()).toBe(before);
  });

  it('hides the moderator-only fields of a report from its reporter', async () => {
    const reporter = await t.makeUser();
    const target = await t.makeUser();
    const { messageId } = await introMessage(target, reporter);
    const res = await t.ok(ReportUserAskingForModeratorFieldsDocument, { input: { userId: target.id, reason: 'HARASSMENT', messageId } }, reporter.token);
    expect(res.reportUser.reporter).toBeNull();
    expect(res.reportUser.context).toEqual([]);
    expect(res.reportUser.resolution).toBeNull();
    expect(res.reportUser.countsTowardAutoBan).toBeNull();
    expect(res.reportUser.message!.id).toBe(messageId);
  });
});

describe('reportUser', () => {
  it('requires a token', async () => {
    const target = await t.makeUser();
    expect(codeOf(await t.gql(ReportUserDocument, { input: { userId: target.id, reason: 'SPAM' } }))).toBe('UNAUTHENTICATED');
  });

  it('files a report the reporter can read back, with reason, details and status OPEN', async () => {
    const reporter = await t.makeUser();
    const target = await t.makeUser();
    const details = 'Line one\nline two — مرحبا 👋';
    const r = await reportOk(reporter, target.id, { details });
    expect(r).toMatchObject({ reason: 'SPAM', status: 'OPEN', details, reportedUser: { id: target.id }, message: null });
    const [row] = await t.query<{ reporter_id: string }>('SELECT reporter_id FROM reports WHERE id = $1', [r.id]);
    expect(row.reporter_id).toBe(reporter.id);
  });

  it.each([
    ['details over 1000 characters', { details: 'x'.repeat(1001) }],
    ['details with NUL', { details: 'bad\u0000text' }],
    ['details with a tab', { details: 'bad\ttext' }],
    ['details with a carriage return', { details: 'bad\rtext' }],
  ])('refuses %s with BAD_USER_INPUT and writes nothing', async (_name, extra) => {
    const reporter = await t.makeUser();
    const target = await t.makeUser();
    const before = await reportCount();
    const res = await report(reporter, target.id, extra);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.field).toBe('details');
    expect(await reportCount()).toBe(before);
  });

  it('accepts exactly 1000 characters of details, counting an emoji as one', async () => {
    const reporter = await t.makeUser();
    const target = await t.makeUser();
    const details = '👋'.repeat(1000);
    expect((await reportOk(reporter, target.id, { details })).details).toBe(details);
  });

  it('refuses reporting yourself (BAD_USER_INPUT), an unknown or malformed user (NOT_FOUND), and a bad reason', async () => {
    const reporter = await t.makeUser();
    const before = await reportCount();
    expect(codeOf(await report(reporter, reporter.id))).toBe('BAD_USER_INPUT');
    expect(codeOf(await report(reporter, reporter.id.toUpperCase()))).toBe('BAD_USER_INPUT');
    expect(codeOf(await report(reporter, randomUUID()))).toBe('NOT_FOUND');
    expect(codeOf(await report(reporter, 'not-a-uuid'))).toBe('NOT_FOUND');
    const badReason = await t.gql(`mutation { reportUser(input: { userId: "${moderator.id}", reason: RUDE }) { id } }`, {}, reporter.token);
    expect(badReason.errors).toHaveLength(1);
    expect(badReason.status).toBeLessThan(500);
    expect(await reportCount()).toBe(before);
  });

  it('accepts a message the reported account sent the reporter, and NOT_FOUND for any other message', async () => {
    const reporter = await t.makeUser();
    const target = await t.makeUser();
    const third = await t.makeUser();
    const { messageId, conversationId } = await introMessage(target, reporter, 'buy followers now');
    const [ownMessage] = await appendMessages(conversationId, [reporter.id]);
    const elsewhere = await introMessage(target, third, 'not for the reporter');
    const byThird = await introMessage(third, reporter, 'from someone else');

    const before = await reportCount();
    for (const other of [ownMessage, elsewhere.messageId, byThird.messageId, randomUUID(), 'garbage']) {
      const res = await report(reporter, target.id, { messageId: other });
      expect(codeOf(res)).toBe('NOT_FOUND');
    }
    // A third party cannot report the pair's message either.
    expect(codeOf(await report(third, target.id, { messageId }))).toBe('NOT_FOUND');
    expect(await reportCount()).toBe(before);

    const r = await reportOk(reporter, target.id, { messageId });
    expect(r.message).toEqual({ id: messageId, text: 'buy followers now' });
  });

  it('blocks too with alsoBlock, in the same call; without it, does not block', async () => {
    const reporter = await t.makeUser();
    const target = await t.makeUser();
    const other = await t.makeUser();
    await reportOk(reporter, target.id, { alsoBlock: true });
    await reportOk(reporter, other.id);
    const blocks = await t.query<{ blocked_id: string }>('SELECT blocked_id FROM blocks WHERE blocker_id = $1', [reporter.id]);
    expect(blocks.map((b) => b.blocked_id)).toEqual([target.id]);
    expect(codeOf(await sendRequest(target, reporter))).toBe('RECIPIENT_UNAVAILABLE');
  });
});

/**
 * Everything the account can read about itself, generated from the schema: every query
 * without required arguments, every field without required arguments, a few levels deep.
 */
function selfViewQueries(): string[] {
  const schema = t.app.schema;
  const selection = (type: GraphQLObjectType, depth: number): string => {
    const fields = Object.values(type.getFields()).filter((f) => !f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined));
    const parts: string[] = ['__typename'];
    for (const f of fields) {
      const named = getNamedType(f.type);
      const args = f.args.some((a) => a.name === 'first') ? '(first: 5)' : '';
      if (isLeafType(named)) parts.push(f.name);
      else if (isObjectType(named) && depth > 0) parts.push(`${f.name}${args} { ${selection(named, depth - 1)} }`);
    }
    return parts.join(' ');
  };
  const query = schema.getQueryType()!;
  return Object.values(query.getFields())
    .filter((f) => f.name !== 'reports' && !f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined))
    .map((f) => {
      const named = getNamedType(f.type);
      const args = f.args.some((a) => a.name === 'first') ? '(first: 5)' : '';
      return isObjectType(named) ? `{ ${f.name}${args} { ${selection(named, 3)} } }` : `{ ${f.name}${args} }`;
    });
}

describe('reporter identity', () => {
  it('appears nowhere the reported account can look, and the reported account is not notified', async () => {
    const target = await t.makeUser();
    const reporters = [await t.makeUser(), await t.makeUser()];
    const friend = await t.makeUser();
    // Some activity of the target's own, so its views are not trivially empty.
    await introMessage(target, friend);
    await introMessage(friend, target);
    const [{ n: eventsBefore }] = await t.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE user_id = $1', [target.id]);

    await reportOk(reporters[0], target.id, { details: 'details naming nobody' });
    await reportOk(reporters[1], target.id, { alsoBlock: true });

    const [{ n: eventsAfter }] = await t.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE user_id = $1', [target.id]);
    expect(eventsAfter).toBe(eventsBefore);
    const notifications = await t.query('SELECT 1 FROM notifications WHERE user_id = $1 AND actor_id = ANY($2::uuid[])', [
      target.id,
      reporters.map((r) => r.id),
    ]);
    expect(notifications).toHaveLength(0);

    const queries = selfViewQueries();
    expect(queries.length).toBeGreaterThan(5);
    for (const query of queries) {
      const res = await t.gql<Record<string, unknown>, Record<string, never>>(query, {}, target.token);
      expect([query, res.errors]).toEqual([query, undefined]);
      const seen = JSON.stringify(res.data);
      for (const r of reporters) {
        expect(seen).not.toContain(r.id);
        expect(seen).not.toContain(r.username);
      }
    }
    // Its own profile says nothing either.
    const profile = JSON.stringify(await t.ok(UserByNameDocument, { username: target.username }, target.token));
    for (const r of reporters) expect(profile).not.toContain(r.id);

    // And a reporter's profile (without alsoBlock) looks to it like anyone else's.
    const control = await t.makeUser();
    const lookAt = async (u: TestUser) => {
      const res = await t.ok(
        `query($u: String!) { user(username: $u) { verified followerCount followingCount isFollowing followsYou isBlocked messageButton { state reason explanation } } }`,
        { u: u.username },
        target.token,
      );
      return res;
    };
    expect(await lookAt(reporters[0])).toEqual(await lookAt(control));
  });
});

describe('automatic messaging ban', () => {
  const threshold = () => t.config.moderation.reportBanThreshold;

  it('bans at exactly the threshold of distinct reporters; repeat reports count once', async () => {
    expect(threshold()).toBe(5);
    const target = await t.makeUser();
    const friend = await t.makeUser();
    const reporters = await contactedBy(target, 5);
    for (const r of reporters.slice(0, 4)) {
      await reportOk(r, target.id);
      await reportOk(r, target.id, { details: 'again' });
    }
    await reportOk(reporters[0], target.id, { details: 'and again' });
    expect(await banRows(target.id)).toHaveLength(0);
    expect(await activeBan(target.id)).toBeNull();

    await reportOk(reporters[4], target.id);
    expect(await banRows(target.id)).toEqual([{ until: null, source: 'REPORTS' }]);
    expect(await activeBan(target.id)).toEqual({ until: null });

    const refused = await sendRequest(target, friend);
    expect(codeOf(refused)).toBe('MESSAGING_BANNED');
    expect(refused.errors![0].extensions).toHaveProperty('until', null);
  });

  it('counts only reports of the last 7 days', async () => {
    const target = await t.makeUser();
    const reporters = await contactedBy(target, 5);
    try {
      for (const r of reporters.slice(0, 4)) await reportOk(r, target.id);
      t.clock.advance(7 * DAY + 60_000);
      await reportOk(reporters[4], target.id);
      expect(await banRows(target.id)).toHaveLength(0);
      // Positive control: four more distinct reporters now make five inside the window.
      for (const r of await contactedBy(target, 4)) await reportOk(r, target.id);
      expect(await activeBan(target.id)).toEqual({ until: null });
    } finally {
      t.clock.reset();
    }
  });

  it.each([
    [4, 6, 0],
    [5, 5, 1],
    [8, 0, 1],
  ])('is exact under concurrency: %i contacted and %i never-contacted reporters at once → %i ban', async (n, strangers, bans) => {
    const target = await t.makeUser();
    const reporters = [...(await contactedBy(target, n)), ...(await Promise.all(Array.from({ length: strangers }, () => t.makeUser())))];
    const results = await Promise.all(reporters.map((r) => report(r, target.id)));
    expect(results.filter((r) => r.errors)).toEqual([]);
    const rows = await banRows(target.id);
    expect(rows).toHaveLength(bans);
    if (bans) expect(rows[0]).toEqual({ until: null, source: 'REPORTS' });
  });

  it('is not reset by resolving reports; after a lift, only reports filed after it count', async () => {
    const target = await t.makeUser();
    const friend = await t.makeUser();
    const reporters = await contactedBy(target, 5);
    for (const r of reporters.slice(0, 4)) {
      const filed = await reportOk(r, target.id);
      await t.ok(ResolveReportDocument, { id: filed.id, action: 'DISMISS' }, moderator.token);
    }
    await reportOk(reporters[4], target.id);
    expect(await activeBan(target.id)).toEqual({ until: null });

    await t.ok(LiftMessagingBanDocument, { userId: target.id }, moderator.token);
    expect(await activeBan(target.id)).toBeNull();
    expect((await sendRequest(target, friend)).errors).toBeUndefined();

    // Reports from before the lift no longer count: four distinct reporters (and repeats)
    // since the lift are under the threshold; the fifth since the lift bans again.
    for (const r of reporters.slice(0, 4)) await reportOk(r, target.id);
    await reportOk(reporters[0], target.id);
    expect(await activeBan(target.id)).toBeNull();
    await reportOk(reporters[4], target.id);
    expect(await activeBan(target.id)).toEqual({ until: null });
  });
});

describe('reports cannot be weaponised (SPEC §8)', () => {
  /** Every report about `userId` in the moderators' queue, as they see it. */
  async function queueAbout(userId: string) {
    return (await allReports()).filter((n) => n.reportedUser?.id === userId);
  }

  it('five accounts the target never contacted cannot ban it, new or established; moderators see every report', async () => {
    const target = await t.makeUser();
    const friend = await t.makeUser();
    const fresh = await Promise.all(Array.from({ length: 5 }, () => t.makeUser({ ageHours: 1 })));
    const strangers = await Promise.all(Array.from({ length: 5 }, () => t.makeUser()));
    const results = await Promise.all([...fresh, ...strangers].map((r) => report(r, target.id)));
    expect(results.filter((r) => r.errors)).toEqual([]);

    expect(await banRows(target.id)).toHaveLength(0);
    expect((await sendRequest(target, friend)).errors).toBeUndefined();

    const queue = await queueAbout(target.id);
    expect(queue.map((n) => n.reporter!.id).sort()).toEqual([...fresh, ...strangers].map((r) => r.id).sort());
    expect(queue.map((n) => n.countsTowardAutoBan)).toEqual(Array(10).fill(false));
  });

  it('five established accounts the target sent a request or a message ban it (MESSAGING_BANNED)', async () => {
    const target = await t.makeUser();
    const friend = await t.makeUser();
    const requested = await contactedBy(target, 3);
    // Two who opened the conversation themselves, and whom the target then wrote to.
    const messaged = [await t.makeUser(), await t.makeUser()];
    for (const m of messaged) {
      const conversationId = await acceptedFrom(target, m);
      await t.ok(SendMessageDocument, { input: { conversationId, text: 'thanks, hi' } }, target.token);
    }
    for (const r of [...requested, ...messaged].slice(0, 4)) await reportOk(r, target.id);
    expect(await banRows(target.id)).toHaveLength(0);
    await reportOk(messaged[1], target.id);

    expect(await banRows(target.id)).toEqual([{ until: null, source: 'REPORTS' }]);
    const refused = await sendRequest(target, friend);
    expect(codeOf(refused)).toBe('MESSAGING_BANNED');
    const queue = await queueAbout(target.id);
    expect(queue).toHaveLength(5);
    expect(queue.map((n) => n.countsTowardAutoBan)).toEqual(Array(5).fill(true));
  });

  it('four contacted reporters and one contacted new account do not ban; that account reporting once it is no longer new does', async () => {
    const target = await t.makeUser();
    const friend = await t.makeUser();
    const established = await contactedBy(target, 4);
    const [newcomer] = await contactedBy(target, 1, { ageHours: 1 });
    try {
      for (const r of [...established, newcomer]) await reportOk(r, target.id);
      expect(await banRows(target.id)).toHaveLength(0);
      expect((await sendRequest(target, friend)).errors).toBeUndefined();

      // Judged when the report is filed: the newcomer's old report never starts to count,
      // but a report it files once it is NEW_ACCOUNT_HOURS old does.
      t.clock.advance(t.config.requests.newAccountHours * 3_600_000);
      await reportOk(established[0], target.id);
      expect(await banRows(target.id)).toHaveLength(0);
      await reportOk(newcomer, target.id);
      expect(await activeBan(target.id)).toEqual({ until: null });
      const newcomerReports = (await queueAbout(target.id)).filter((n) => n.reporter!.id === newcomer.id);
      expect(newcomerReports.map((n) => n.countsTowardAutoBan)).toEqual([false, true]);
    } finally {
      t.clock.reset();
    }
  });

  it('accepting someone’s request is not contacting them; writing to them is', async () => {
    const target = await t.makeUser();
    const established = await contactedBy(target, 4);
    const asker = await t.makeUser();
    const conversationId = await acceptedFrom(target, asker);
    for (const r of [...established, asker]) await reportOk(r, target.id);
    expect(await banRows(target.id)).toHaveLength(0);

    await t.ok(SendMessageDocument, { input: { conversationId, text: 'what do you want' } }, target.token);
    await reportOk(asker, target.id);
    expect(await activeBan(target.id)).toEqual({ until: null });
  });

  it('a message from someone else in a conversation with the reporter is not contact by the target', async () => {
    const target = await t.makeUser();
    const established = await contactedBy(target, 4);
    const other = await t.makeUser();
    // The reporter has conversations, but the target never wrote in one with it.
    const reporter = (await contactedBy(other, 1))[0];
    await introMessage(reporter, target);
    for (const r of [...established, reporter]) await reportOk(r, target.id);
    expect(await banRows(target.id)).toHaveLength(0);
  });
});

describe('moderation queue', () => {
  it('lists open reports oldest first with reporter and context, pages, and filters by status', async () => {
    const target = await t.makeUser();
    const reporter = await t.makeUser();
    const second = await t.makeUser();
    const { messageId, conversationId } = await introMessage(target, reporter, 'intro');
    // seq 1 is the intro; seq 2..10 follow, alternating senders.
    const ids = [messageId, ...(await appendMessages(conversationId, [reporter.id, target.id, reporter.id, target.id, target.id, reporter.id, target.id, reporter.id, target.id]))];
    const first = await reportOk(reporter, target.id, { messageId: ids[4], details: 'fifth message' });
    const secondReport = await reportOk(second, target.id);
    const third = await reportOk(reporter, target.id, { messageId: ids[0] });

    const all = await allReports();
    const mine = all.filter((n) => n.reportedUser?.id === target.id);
    expect(mine.map((n) => n.id)).toEqual([first.id, secondReport.id, third.id]);
    const [a, b, c] = mine;
    expect(a.reporter).toEqual({ id: reporter.id, username: reporter.username });
    expect(b.reporter!.id).toBe(second.id);
    expect(a.details).toBe('fifth message');
    expect(a.message!.id).toBe(ids[4]);
    // seq 5 ± 3 → seq 2..8; seq 1 − 3 is clipped → seq 1..4.
    expect(a.context.map((m) => m.id)).toEqual(ids.slice(1, 8));
    expect(a.context.map((m) => m.sender.id)).toEqual([reporter.id, target.id, reporter.id, target.id, target.id, reporter.id, target.id]);
    expect(b.context).toEqual([]);
    expect(c.context.map((m) => m.id)).toEqual(ids.slice(0, 4));

    // Smaller pages walk the same order; the queue is oldest first.
    expect((await allReports('OPEN', 3)).map((n) => n.id)).toEqual(all.map((n) => n.id));
    const times = all.map((n) => Date.parse(n.createdAt));
    expect(times).toEqual([...times].sort((x, y) => x - y));

    const forgedCursor = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    expect(codeOf(await t.gql(ReportsDocument, { after: forgedCursor }, moderator.token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(ReportsDocument, { first: 0 }, moderator.token))).toBe('BAD_USER_INPUT');

    // Resolved reports leave the open queue and show under RESOLVED.
    const resolved = await t.ok(ResolveReportDocument, { id: first.id, action: 'WARN' }, moderator.token);
    expect(resolved.resolveReport).toMatchObject({ status: 'RESOLVED', resolution: 'WARN', reporter: { id: reporter.id } });
    expect(resolved.resolveReport.resolvedAt).not.toBeNull();
    expect(resolved.resolveReport.context.map((m) => m.id)).toEqual(ids.slice(1, 8));
    expect((await allReports('OPEN')).map((n) => n.id)).not.toContain(first.id);
    expect((await allReports('RESOLVED')).map((n) => n.id)).toContain(first.id);
    expect(await activeBan(target.id)).toBeNull();
  });

  it('resolveReport: DISMISS bans nobody, BAN bans until lifted, an unknown id is NOT_FOUND', async () => {
    const target = await t.makeUser();
    const friend = await t.makeUser();
    const reporter = await t.makeUser();
    const filed = await reportOk(reporter, target.id);
    await t.ok(ResolveReportDocument, { id: filed.id, action: 'DISMISS' }, moderator.token);
    expect(await banRows(target.id)).toHaveLength(0);

    const banned = await t.ok(ResolveReportDocument, { id: filed.id, action: 'BAN' }, moderator.token);
    expect(banned.resolveReport.resolution).toBe('BAN');
    expect(await banRows(target.id)).toEqual([{ until: null, source: 'MODERATOR' }]);
    const refused = await sendRequest(target, friend);
    expect(codeOf(refused)).toBe('MESSAGING_BANNED');
    expect(refused.errors![0].extensions).toHaveProperty('until', null);

    expect(codeOf(await t.gql(ResolveReportDocument, { id: randomUUID(), action: 'DISMISS' }, moderator.token))).toBe('NOT_FOUND');
    expect(codeOf(await t.gql(ResolveReportDocument, { id: 'nope', action: 'DISMISS' }, moderator.token))).toBe('NOT_FOUND');
  });
});

describe('messaging bans', () => {
  it('bans until a time: MESSAGING_BANNED with that until, then messaging again once it passes', async () => {
    const target = await t.makeUser();
    const friend = await t.makeUser();
    const until = new Date(t.clock.now().getTime() + 2 * DAY);
    await t.ok(BanFromMessagingDocument, { userId: target.id, until: until.toISOString() }, moderator.token);
    expect(await activeBan(target.id)).toEqual({ until });
    const refused = await sendRequest(target, friend);
    expect(codeOf(refused)).toBe('MESSAGING_BANNED');
    expect(refused.errors![0].extensions!.until).toBe(until.toISOString());
    try {
      t.clock.advance(2 * DAY + 60_000);
      expect(await activeBan(target.id)).toBeNull();
      expect((await sendRequest(target, friend)).errors).toBeUndefined();
    } finally {
      t.clock.reset();
    }
  });

  it('refuses sendMessage in an open conversation too, until lifted', async () => {
    const target = await t.makeUser();
    const friend = await t.makeUser();
    const sent = await sendRequest(friend, target);
    await t.ok(AcceptMessageRequestDocument, { id: sent.data!.sendMessageRequest.id }, target.token);
    const conversationId = sent.data!.sendMessageRequest.conversation.id;
    const until = new Date(t.clock.now().getTime() + DAY);
    await t.ok(BanFromMessagingDocument, { userId: target.id, until: until.toISOString() }, moderator.token);
    const refused = await t.gql(SendMessageDocument, { input: { conversationId, text: 'still here' } }, target.token);
    expect(codeOf(refused)).toBe('MESSAGING_BANNED');
    expect(refused.errors![0].extensions!.until).toBe(until.toISOString());
    await t.ok(LiftMessagingBanDocument, { userId: target.id }, moderator.token);
    expect((await t.gql(SendMessageDocument, { input: { conversationId, text: 'back' } }, target.token)).errors).toBeUndefined();
  });

  it('bans for good without until, and liftMessagingBan ends it (idempotently)', async () => {
    const target = await t.makeUser();
    const friend = await t.makeUser();
    await t.ok(BanFromMessagingDocument, { userId: target.id }, moderator.token);
    expect(await activeBan(target.id)).toEqual({ until: null });
    expect(codeOf(await sendRequest(target, friend))).toBe('MESSAGING_BANNED');

    await t.ok(LiftMessagingBanDocument, { userId: target.id }, moderator.token);
    await t.ok(LiftMessagingBanDocument, { userId: target.id }, moderator.token);
    expect(await activeBan(target.id)).toBeNull();
    expect((await sendRequest(target, friend)).errors).toBeUndefined();
  });

  it('refuses an until in the past or now, an unknown user, a malformed date; writes nothing', async () => {
    const target = await t.makeUser();
    const before = await snapshot();
    const past = new Date(t.clock.now().getTime() - 1000).toISOString();
    const pastRes = await t.gql(BanFromMessagingDocument, { userId: target.id, until: past }, moderator.token);
    expect(codeOf(pastRes)).toBe('BAD_USER_INPUT');
    expect(pastRes.errors![0].extensions!.field).toBe('until');
    expect(codeOf(await t.gql(BanFromMessagingDocument, { userId: randomUUID() }, moderator.token))).toBe('NOT_FOUND');
    const garbled = await t.gql(`mutation { banFromMessaging(userId: "${target.id}", until: "next tuesday") { id } }`, {}, moderator.token);
    expect(garbled.errors).toHaveLength(1);
    expect(garbled.status).toBeLessThan(500);
    expect(codeOf(await t.gql(LiftMessagingBanDocument, { userId: randomUUID() }, moderator.token))).toBe('NOT_FOUND');
    expect(await snapshot()).toBe(before);
  });
});

describe('setVerified', () => {
  it('lets a moderator set and clear the verified mark', async () => {
    const target = await t.makeUser();
    expect((await t.ok(SetVerifiedDocument, { userId: target.id, verified: true }, moderator.token)).setVerified.verified).toBe(true);
    const [row] = await t.query<{ verified: boolean }>('SELECT verified FROM users WHERE id = $1', [target.id]);
    expect(row.verified).toBe(true);
    expect((await t.ok(SetVerifiedDocument, { userId: target.id, verified: false }, moderator.token)).setVerified.verified).toBe(false);
    expect(codeOf(await t.gql(SetVerifiedDocument, { userId: randomUUID(), verified: true }, moderator.token))).toBe('NOT_FOUND');
  });
});
