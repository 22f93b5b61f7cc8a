import { startTestApp, type GqlResult, type TestApp, type TestUser } from '../support/app';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres';
import { until } from '../support/until';
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
/** Refused attempts each writer sees before the database comes back. */
const REFUSALS = 25;

interface Attempt {
  at: number;
  sender: number;
  status: number;
  code?: string;
  message?: string;
  extensions?: Record<string, unknown>;
  network?: string;
}

// A PostgreSQL restart takes seconds: every wait here allows 20.
const RESTART_MS = 20_000;

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
    const tries = new Map<string, number>();
    async function sendUntilAcked(sender: number, to: TestUser, key: string): Promise<void> {
      const from = senders[sender];
      for (let attempt = 1; ; attempt++) {
        tries.set(key, attempt);
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
        attempts.push({ at: Date.now(), sender, status: res?.status ?? 0, code: e?.extensions?.code as string | undefined, message: e?.message, extensions: e?.extensions, network });
        if (Date.now() > deadline || attempt >= 500) throw new Error(`send ${key} not acknowledged after ${attempt} attempts`);
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
      }
    }

    // /healthz answers throughout (the process stays up and serving).
    const health: Array<{ at: number; status: number }> = [];
    let load = true;
    const healthLoop = (async () => {
      while (load) health.push({ at: Date.now(), status: await probe('/healthz') });
    })();

    const work = senders.map(async (_s, i) => {
      for (let j = 0; j < PER_SENDER; j++) await sendUntilAcked(i, recipients[j], `s${i}-r${j}`);
    });
    const total = SENDERS * PER_SENDER;

    // The outage, driven by real signals: stop once a quarter of the load is acknowledged
    // (20 writers in flight), restart once /readyz says 503 and every writer has been
    // refused REFUSALS times since the stop (an outage of a second or two).
    const faults = (async () => {
      await until('a quarter of the sends', () => acked.size >= total / 4, RESTART_MS);
      outage = { stoppedAt: Date.now() };
      const stopping = pg.stop();
      await until('/readyz to report 503', async () => (await probe('/readyz')) === 503, RESTART_MS);
      await stopping;
      const since = outage.stoppedAt;
      await until('every writer to be refused repeatedly', () => {
        const refused = new Map<number, number>();
        for (const a of attempts) if (a.at >= since) refused.set(a.sender, (refused.get(a.sender) ?? 0) + 1);
        return refused.size === SENDERS && [...refused.values()].every((n) => n >= REFUSALS);
      }, RESTART_MS);
      expect(await probe('/healthz')).toBe(200);
      expect(await probe('/readyz')).toBe(503);
      outage.restartedAt = Date.now();
      await pg.start();
      await until('/readyz to report 200', async () => (await probe('/readyz')) === 200, RESTART_MS);
      outage.readyAgainAt = Date.now();
    })();

    await Promise.all([faults, ...work]);
    load = false;
    await healthLoop;

    const o = outage!;
    const codes = new Map<string, number>();
    for (const a of attempts) codes.set(`${a.status} ${a.code ?? a.network}`, (codes.get(`${a.status} ${a.code ?? a.network}`) ?? 0) + 1);
    // The measured figures, for the record.
    console.log(
      JSON.stringify({
        acked: acked.size,
        refusedAttempts: attempts.length,
        byStatusAndCode: Object.fromEntries(codes),
        maxAttemptsForOneSend: Math.max(...tries.values()),
        outageMs: o.restartedAt! - o.stoppedAt,
        stopToReadyMs: o.readyAgainAt! - o.stoppedAt,
        healthProbes: health.length,
      }),
    );

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
    expect(health.filter((h) => h.at >= o.stoppedAt && h.at < o.readyAgainAt!).length).toBeGreaterThan(5);
    expect(health.filter((h) => h.status !== 200)).toEqual([]);
    expect(await probe('/readyz')).toBe(200);
  }, 60_000);
});
