import { startTestApp, type GqlResult, type TestApp, type TestUser } from '../support/app';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres';
import { SendMessageRequestDocument } from '../generated/graphql';

/**
 * Issue 6, faults: PostgreSQL stopped and restarted under a write load. The app runs on a
 * PostgreSQL of this test's own so the shared server is never disturbed. Clients retry
 * each send with the same clientMessageId until it is acknowledged.
 */
let pg: OwnPostgres;
let t: TestApp;
beforeAll(async () => {
  pg = await startOwnPostgres('faults');
  t = await startTestApp(
    { MESSAGE_RATE_PER_SECOND: '100000', MESSAGE_RATE_BURST: '100000', DAILY_MESSAGE_REQUEST_LIMIT: '1000' },
    { adminUrl: pg.adminUrl },
  );
}, 30_000);
afterAll(async () => {
  await pg?.start().catch(() => undefined);
  await t?.close();
  await pg?.destroy();
});

const SENDERS = 20;
const PER_SENDER = 8;

interface Attempt {
  at: number;
  status: number;
  code?: string;
  message?: string;
  extensions?: Record<string, unknown>;
  network?: string;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const probe = async (path: '/healthz' | '/readyz'): Promise<number> => {
  try {
    const res = await fetch(new URL(path, t.app.url), { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // no answer at all: the process is down or hung
  }
};

describe('PostgreSQL restarted under write load', () => {
  it('the app stays up, errors are clear and retryable, every acknowledged send exists exactly once', async () => {
    const users = await Promise.all(Array.from({ length: SENDERS + PER_SENDER }, () => t.makeUser()));
    const senders = users.slice(0, SENDERS);
    const recipients = users.slice(SENDERS);

    const attempts: Attempt[] = [];
    const acked = new Map<string, string>(); // clientMessageId → request id
    let outage: { stoppedAt: number; restartedAt?: number; readyAgainAt?: number } | null = null;
    const deadline = Date.now() + 45_000;

    /** One send, retried with the same clientMessageId on any error until acknowledged. */
    async function sendUntilAcked(from: TestUser, to: TestUser, key: string): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        let res: GqlResult<{ sendMessageRequest: { id: string } }> | null = null;
        let network: string | undefined;
        try {
          res = await t.gql(SendMessageRequestDocument, { input: { recipientId: to.id, text: `hello from ${key}`, clientMessageId: key } }, from.token);
        } catch (err) {
          network = (err as Error).message;
        }
        if (res && !res.errors && res.data?.sendMessageRequest) {
          acked.set(key, res.data.sendMessageRequest.id);
          return;
        }
        const e = res?.errors?.[0];
        attempts.push({ at: Date.now(), status: res?.status ?? 0, code: e?.extensions?.code as string | undefined, message: e?.message, extensions: e?.extensions, network });
        if (Date.now() > deadline || attempt >= 500) throw new Error(`send ${key} not acknowledged after ${attempt} attempts`);
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
      }
    }

    // /healthz answers throughout (the process stays up and serving).
    const health: number[] = [];
    let load = true;
    const healthLoop = (async () => {
      while (load) health.push(await probe('/healthz'));
    })();

    const work = senders.map(async (s, i) => {
      for (let j = 0; j < PER_SENDER; j++) await sendUntilAcked(s, recipients[j], `s${i}-r${j}`);
    });
    const total = SENDERS * PER_SENDER;

    // The outage, driven by real signals: stop once a quarter of the load is acknowledged,
    // restart once /readyz says 503 and the clients have seen errors.
    const faults = (async () => {
      await until('a quarter of the sends', () => acked.size >= total / 4);
      outage = { stoppedAt: Date.now() };
      await pg.stop();
      await until('/readyz to report 503', async () => (await probe('/readyz')) === 503);
      const seenBefore = attempts.length;
      await until('clients to see outage errors', () => attempts.length >= seenBefore + 20);
      expect(await probe('/healthz')).toBe(200);
      outage.restartedAt = Date.now();
      await pg.start();
      await until('/readyz to report 200', async () => (await probe('/readyz')) === 200);
      outage.readyAgainAt = Date.now();
    })();

    await Promise.all([faults, ...work]);
    load = false;
    await healthLoop;

    const o = outage!;
    const codes = new Map<string, number>();
    for (const a of attempts) codes.set(`${a.status} ${a.code ?? a.network}`, (codes.get(`${a.status} ${a.code ?? a.network}`) ?? 0) + 1);
    console.log({
      acked: acked.size,
      failedAttempts: attempts.length,
      byStatusAndCode: Object.fromEntries(codes),
      outageMs: o.restartedAt! - o.stoppedAt,
      untilReadyMs: o.readyAgainAt! - o.stoppedAt,
      sample: attempts.slice(0, 3),
      health: health.length,
    });

    // Every acknowledged send exists exactly once: zero lost, zero duplicated.
    expect(acked.size).toBe(total);
    const rows = await t.query<{ client_message_id: string; n: number; id: string }>(
      `SELECT client_message_id, count(*)::int AS n, min(id::text) AS id FROM message_requests WHERE sender_id = ANY($1) GROUP BY client_message_id`,
      [senders.map((s) => s.id)],
    );
    const byKey = new Map(rows.map((r) => [r.client_message_id, r]));
    for (const [key, id] of acked) {
      expect({ key, n: byKey.get(key)?.n, id: byKey.get(key)?.id }).toEqual({ key, n: 1, id });
    }
    expect(rows).toHaveLength(total);
    // Each acknowledged request's intro message was written once too.
    const [{ messages }] = await t.query<{ messages: number }>(`SELECT count(*)::int AS messages FROM messages WHERE sender_id = ANY($1)`, [senders.map((s) => s.id)]);
    expect(messages).toBe(total);

    // Errors in between were clear and retryable: never a crash, never a stack trace.
    expect(attempts.length).toBeGreaterThan(0);
    for (const a of attempts) {
      expect(a.network).toBeUndefined();
      expect(a.code).toBe('SERVICE_UNAVAILABLE');
      expect(a.extensions?.retryable).toBe(true);
      expect(a.extensions).not.toHaveProperty('stacktrace');
      expect(a.message).not.toMatch(/\n\s+at |ECONNREFUSED|terminat|Error:/);
    }
    expect(health.length).toBeGreaterThan(0);
    expect(health.every((s) => s === 200)).toBe(true);
    expect(await probe('/readyz')).toBe(200);
  }, 60_000);
});
