import http from 'node:http';
import { print } from 'graphql';
import { startTestApp, codeOf, birthDateForAge, PASSWORD, type GqlResult, type TestApp } from '../support/app';
import { LogInDocument, SignUpDocument, type LogInMutation, type LogInMutationVariables } from '../generated/graphql';

/**
 * SPEC §8 (issue 14 item 5): log-in is limited per username and per client address,
 * exactly under a parallel burst (the attempt is taken before the password is checked);
 * sign-up is limited per client address. Every refusal is RATE_LIMITED with retryAfter.
 */

/**
 * Log-ins that reach the server at the same instant: each on its own connection, sent
 * whole but for the body's last byte, which all requests then get together (last-byte
 * synchronisation). The server cannot start any of them before it has all of them, so no
 * attempt's bookkeeping finishes before the others have started.
 */
async function simultaneousLogIns(t: TestApp, inputs: LogInMutationVariables['input'][]): Promise<Array<GqlResult<LogInMutation>>> {
  const url = new URL(t.app.url);
  const pending = inputs.map((input) => {
    const body = Buffer.from(JSON.stringify({ query: print(LogInDocument), variables: { input } }));
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length } });
    const response = new Promise<GqlResult<LogInMutation>>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, ...(JSON.parse(text) as Omit<GqlResult<LogInMutation>, 'status'>) }));
      });
      req.on('error', reject);
    });
    const connected = new Promise((resolve) => req.on('socket', (socket) => socket.once('connect', resolve)));
    req.write(body.subarray(0, body.length - 1));
    return { req, last: body.subarray(body.length - 1), response, connected };
  });
  await Promise.all(pending.map((p) => p.connected));
  for (const p of pending) p.req.end(p.last);
  return Promise.all(pending.map((p) => p.response));
}

describe('log-in attempts per username, under a parallel burst', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_FAILURES_PER_15_MIN: '3' });
  });
  afterAll(() => t.close());

  it('with one attempt left, 30 parallel log-ins get exactly one answer that is not RATE_LIMITED', async () => {
    const u = await t.makeUser();
    for (let i = 0; i < 2; i++) {
      expect(codeOf(await t.gql(LogInDocument, { input: { username: u.username, password: `wrong ${i}` } }))).toBe('UNAUTHENTICATED');
    }
    // Among the first to start: on a loaded machine the server starts the burst's requests
    // a few ms apart, and checking before counting let every early one be verified.
    const right = 1;
    const results = await simultaneousLogIns(
      t,
      Array.from({ length: 30 }, (_, i) => ({ username: u.username, password: i === right ? PASSWORD : `guess ${i}` })),
    );
    const answered = results.filter((r) => codeOf(r) !== 'RATE_LIMITED');
    // At most one password was verified: the one attempt left.
    expect(answered).toHaveLength(1);
    // No wrong guess ever signs in; the right one did only if it was the one let through.
    results.forEach((r, i) => {
      if (i !== right) expect(r.data?.logIn).toBeFalsy();
    });
    const limited = results.find((r) => codeOf(r) === 'RATE_LIMITED')!;
    expect(limited.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
    // And the limit stays: the right password is refused now too.
    expect(codeOf(await t.gql(LogInDocument, { input: { username: u.username, password: PASSWORD } }))).toBe('RATE_LIMITED');
  });

  it('a successful log-in gives the username its attempts back', async () => {
    const u = await t.makeUser();
    for (let i = 0; i < 2; i++) await t.gql(LogInDocument, { input: { username: u.username, password: 'wrong password' } });
    await t.ok(LogInDocument, { input: { username: u.username, password: PASSWORD } });
    for (let i = 0; i < 2; i++) {
      expect(codeOf(await t.gql(LogInDocument, { input: { username: u.username, password: 'wrong password' } }))).toBe('UNAUTHENTICATED');
    }
  });
});

describe('per client address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_ATTEMPTS_PER_IP_PER_15_MIN: '4', SIGNUPS_PER_IP_PER_HOUR: '3' });
  });
  afterAll(() => t.close());

  it('limits log-in attempts from one address across usernames, never saying which exist', async () => {
    const u = await t.makeUser();
    const names = ['nobody_a', 'nobody_b', 'nobody_c'];
    for (const username of names) {
      expect(codeOf(await t.gql(LogInDocument, { input: { username, password: 'a guess' } }))).toBe('UNAUTHENTICATED');
    }
    expect((await t.ok(LogInDocument, { input: { username: u.username, password: PASSWORD } })).logIn.user.id).toBe(u.id);
    // Every attempt counts, the successful one too: each costs an argon2 hash.
    const refused = await t.gql(LogInDocument, { input: { username: u.username, password: PASSWORD } });
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
    const unknown = await t.gql(LogInDocument, { input: { username: 'nobody_d', password: 'a guess' } });
    expect(codeOf(unknown)).toBe('RATE_LIMITED');
    expect(unknown.errors![0].message).toBe(refused.errors![0].message);
  });

  it('limits sign-ups from one address, exactly under a parallel burst, writing nothing when refused', async () => {
    const count = async () => Number((await t.query<{ n: string }>('SELECT count(*) AS n FROM users'))[0].n);
    const before = await count();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        t.gql(SignUpDocument, { input: { username: `burst_${i}_${Date.now().toString(36)}`, password: PASSWORD, displayName: 'Burst', birthDate: birthDateForAge(30) } }),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(3);
    const limited = results.filter((r) => codeOf(r) === 'RATE_LIMITED');
    expect(limited).toHaveLength(3);
    expect(limited[0].errors![0].extensions!.retryAfter).toBeGreaterThan(0);
    expect(await count()).toBe(before + 3);
  });
});
