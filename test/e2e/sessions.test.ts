import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { startTestApp, codeOf, PASSWORD, type TestApp, type TestUser } from '../support/app';
import { ChangePasswordDocument, LogInDocument, LogOutDocument, MeDocument } from '../generated/graphql';
import { until } from '../support/until';
import { OwnRedis, freePort } from '../support/own-redis';

/**
 * SPEC §8 "Sessions end" (issue 14 item 4) and sockets per account (item 7c): a socket
 * is bound to its token's expiry and revocation; logOut ends one token, changePassword
 * every token of the account, on every instance; an account has at most
 * MAX_SOCKETS_PER_ACCOUNT sockets across all instances.
 */

const BADGE = 'subscription { inboxBadgeChanged { cursor } }';

/** A graphql-ws socket that connects at once; `outcome` is 'connected' or the close code. */
function socket(t: TestApp, token: string) {
  const client = t.wsClient(token, { lazy: false, onNonLazyError: () => undefined });
  const closed = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)));
  const connected = new Promise<'connected'>((resolve) => client.on('connected', () => resolve('connected')));
  return { client, closed, outcome: Promise.race([connected, closed]) };
}

/** Resolves with the close code, or 'open' if the socket is still open after `ms`. */
function closeCodeWithin(closed: Promise<number>, ms: number): Promise<number | 'open'> {
  return Promise.race([closed, new Promise<'open'>((r) => setTimeout(() => r('open'), ms).unref())]);
}

function expOf(token: string): number {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp * 1000;
}

async function logIn(t: TestApp, username: string, password = PASSWORD): Promise<string> {
  return (await t.ok(LogInDocument, { input: { username, password } })).logIn.token;
}

async function meCode(t: TestApp, token: string): Promise<string | undefined> {
  return codeOf(await t.gql(MeDocument, {}, token));
}

describe('a socket is bound to its token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TOKEN_TTL_SECONDS: '2' });
  });
  afterAll(() => t.close());

  it('closes with 4403 when the token expires, and runs nothing sent on it after expiry', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const exp = expOf(a.token);
    expect(exp - Date.now()).toBeLessThan(3000); // the wait below spins until then
    // A raw graphql-ws socket, so the test decides exactly when a frame is sent.
    const ws = new WebSocket(t.app.wsUrl, 'graphql-transport-ws');
    const frames: Array<{ type: string; id?: string; payload?: unknown }> = [];
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    const acked = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data));
        frames.push(frame);
        if (frame.type === 'connection_ack') resolve();
      }),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${a.token}` } }));
    await acked;

    // Works while the token is valid.
    ws.send(JSON.stringify({ id: 'before', type: 'subscribe', payload: { query: '{ me { id } }' } }));
    await until('the query before expiry to answer', () => frames.some((f) => f.id === 'before' && f.type === 'next'));

    // The server runs in this process: send a mutation just before the token expires and
    // hold the process until just after, so the server reads the frame only once the
    // token has expired (whether its expiry timer or the frame comes first).
    await new Promise((r) => setTimeout(r, Math.max(0, exp - 150 - Date.now())));
    ws.send(
      JSON.stringify({
        id: 'after',
        type: 'subscribe',
        payload: {
          operationName: 'SentAfterExpiry',
          query: `mutation SentAfterExpiry { sendMessageRequest(input: { recipientId: "${b.id}", text: "sent on an expired session" }) { id } }`,
        },
      }),
    );
    while (Date.now() < exp + 30) {
      /* hold the event loop past the expiry */
    }
    expect(await closeCodeWithin(closed, 5000)).toBe(4403);
    // The server's own record of how that operation ended (the client cannot hear it: the
    // socket is closing): refused, not run.
    const outcome = await until('the server to have handled the late operation', async () => {
      const text = await t.app.metrics.render();
      return /graphql_operations_total\{operation="SentAfterExpiry",[^}]*outcome="(\w+)"\} 1/.exec(text)?.[1];
    });
    expect(outcome).toBe('refused');
    expect(frames.filter((f) => f.id === 'after' && f.type === 'next')).toEqual([]);
    const [{ n }] = await t.query<{ n: string }>('SELECT count(*) AS n FROM message_requests WHERE sender_id = $1', [a.id]);
    expect(Number(n)).toBe(0);
    expect(await meCode(t, a.token)).toBe('UNAUTHENTICATED');
  });

  it('closes a graphql-ws client with 4403 at expiry while a subscription is open', async () => {
    const a = await t.makeUser();
    const s = socket(t, a.token);
    expect(await s.outcome).toBe('connected');
    s.client.subscribe({ query: BADGE }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    expect(await closeCodeWithin(s.closed, expOf(a.token) - Date.now() + 3000)).toBe(4403);
    // A new socket with the expired token is refused too.
    expect(await socket(t, a.token).outcome).toBe(4403);
  });
});

describe('logOut', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('ends that token on HTTP and closes its socket, and leaves the account’s other tokens alone', async () => {
    const u = await t.makeUser();
    const other = await logIn(t, u.username);
    const mine = socket(t, u.token);
    const theirs = socket(t, other);
    expect(await mine.outcome).toBe('connected');
    expect(await theirs.outcome).toBe('connected');
    expect(await meCode(t, u.token)).toBeUndefined();

    expect(await t.ok(LogOutDocument, {}, u.token)).toEqual({ logOut: true });
    expect(await closeCodeWithin(mine.closed, 5000)).toBe(4403);
    expect(await meCode(t, u.token)).toBe('UNAUTHENTICATED');
    expect(await socket(t, u.token).outcome).toBe(4403);
    // Idempotent: the same token logged out again still answers true.
    expect(await t.ok(LogOutDocument, {}, u.token)).toEqual({ logOut: true });

    // The other device is still signed in.
    expect(await meCode(t, other)).toBeUndefined();
    expect(await closeCodeWithin(theirs.closed, 300)).toBe('open');
    const [{ n }] = await t.query<{ n: string }>('SELECT count(*) AS n FROM revoked_tokens WHERE user_id = $1', [u.id]);
    expect(Number(n)).toBe(1);
  });

  it('needs a token', async () => {
    expect(codeOf(await t.gql(LogOutDocument, {}))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(LogOutDocument, {}, 'not.a.token'))).toBe('UNAUTHENTICATED');
  });
});

describe('changePassword', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('refuses a wrong current password or a bad new one, changing nothing', async () => {
    const u = await t.makeUser();
    const wrong = await t.gql(ChangePasswordDocument, { input: { currentPassword: 'not it at all', newPassword: 'a new password' } }, u.token);
    expect(codeOf(wrong)).toBe('BAD_USER_INPUT');
    expect(wrong.errors![0].extensions!.field).toBe('currentPassword');
    const short = await t.gql(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: 'short' } }, u.token);
    expect(codeOf(short)).toBe('BAD_USER_INPUT');
    expect(short.errors![0].extensions!.field).toBe('newPassword');
    expect(codeOf(await t.gql(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: 'a new password' } }))).toBe('UNAUTHENTICATED');
    expect(await meCode(t, u.token)).toBeUndefined();
    expect(await logIn(t, u.username)).toEqual(expect.any(String));
  });

  it('ends every older token and socket, answers a working token, and swaps the passwords', async () => {
    const u = await t.makeUser();
    const other = await logIn(t, u.username);
    const sockets = [socket(t, u.token), socket(t, other)];
    for (const s of sockets) expect(await s.outcome).toBe('connected');

    const res = await t.ok(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: 'a brand new password' } }, u.token);
    const fresh = res.changePassword.token;
    expect(res.changePassword.user.id).toBe(u.id);
    for (const s of sockets) expect(await closeCodeWithin(s.closed, 5000)).toBe(4403);
    expect(await meCode(t, u.token)).toBe('UNAUTHENTICATED');
    expect(await meCode(t, other)).toBe('UNAUTHENTICATED');
    expect(await meCode(t, fresh)).toBeUndefined();
    expect(await socket(t, fresh).outcome).toBe('connected');
    expect(codeOf(await t.gql(LogInDocument, { input: { username: u.username, password: PASSWORD } }))).toBe('UNAUTHENTICATED');
    expect(await logIn(t, u.username, 'a brand new password')).toEqual(expect.any(String));
  });
});

const redisInstalled = spawnSync('redis-server', ['--version']).status === 0;
(redisInstalled ? describe : describe.skip)('changePassword across two instances through Redis', () => {
  let redis: OwnRedis;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    // Rechecks an hour apart: what ends the sessions on b here is the broadcast.
    a = await startTestApp({ REDIS_URL: redis.url, TOKEN_RECHECK_SECONDS: '3600' });
    b = await startTestApp({ REDIS_URL: redis.url, TOKEN_RECHECK_SECONDS: '3600' }, { databaseUrl: a.config.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  it('closes the account’s sockets on the other instance at once and refuses its old tokens there', async () => {
    const u = await a.makeUser();
    const other = await logIn(a, u.username);
    // b has seen (and remembers) both tokens.
    expect(await meCode(b, u.token)).toBeUndefined();
    expect(await meCode(b, other)).toBeUndefined();
    const onB = [socket(b, u.token), socket(b, other)];
    for (const s of onB) expect(await s.outcome).toBe('connected');
    await until('both instances on Redis', async () => {
      const text = await (await fetch(b.app.url.replace(/\/graphql$/, '/metrics'))).text();
      return /^event_bus_ready\{mode="redis"\} 1$/m.test(text);
    });

    const res = await a.ok(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: 'a brand new password' } }, u.token);
    for (const s of onB) expect(await closeCodeWithin(s.closed, 5000)).toBe(4403);
    expect(await meCode(b, u.token)).toBe('UNAUTHENTICATED');
    expect(await meCode(b, other)).toBe('UNAUTHENTICATED');
    expect(await meCode(b, res.changePassword.token)).toBeUndefined();
  });

  it('logOut on one instance ends the token on the other', async () => {
    const u = await a.makeUser();
    expect(await meCode(b, u.token)).toBeUndefined();
    const onB = socket(b, u.token);
    expect(await onB.outcome).toBe('connected');
    await a.ok(LogOutDocument, {}, u.token);
    expect(await closeCodeWithin(onB.closed, 5000)).toBe(4403);
    expect(await meCode(b, u.token)).toBe('UNAUTHENTICATED');
  });
});

describe('two instances without Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ TOKEN_RECHECK_SECONDS: '1' });
    b = await startTestApp({ TOKEN_RECHECK_SECONDS: '1' }, { databaseUrl: a.config.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('the other instance drops a changed password’s tokens within TOKEN_RECHECK_SECONDS', async () => {
    const u = await a.makeUser();
    expect(await meCode(b, u.token)).toBeUndefined();
    const onB = socket(b, u.token);
    expect(await onB.outcome).toBe('connected');
    const changed = Date.now();
    await a.ok(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: 'a brand new password' } }, u.token);
    expect(await closeCodeWithin(onB.closed, 5000)).toBe(4403);
    await until('b to refuse the old token', async () => (await meCode(b, u.token)) === 'UNAUTHENTICATED', 5000);
    // The bound: one recheck period (1 s here), plus a sweep's own time.
    expect(Date.now() - changed).toBeLessThan(2500);
  });

  it('caps sockets per account across both instances, exactly, under a parallel burst', async () => {
    const max = 10; // MAX_SOCKETS_PER_ACCOUNT's default (SPEC §8)
    const u = await a.makeUser();
    const opened = Array.from({ length: max + 5 }, (_, i) => socket(i % 2 ? b : a, u.token));
    const outcomes = await Promise.all(opened.map((s) => s.outcome));
    expect(outcomes.filter((o) => o === 'connected')).toHaveLength(max);
    expect(outcomes.filter((o) => o === 4430)).toHaveLength(5);

    // Another account is not affected; a closed socket frees its place.
    expect(await socket(a, (await a.makeUser()).token).outcome).toBe('connected');
    expect(await socket(b, u.token).outcome).toBe(4430);
    const open = opened.filter((_, i) => outcomes[i] === 'connected');
    await open[0].client.dispose();
    await open[0].closed;
    await until('a place to free up', async () => (await socket(b, u.token).outcome) === 'connected');
  });
});
