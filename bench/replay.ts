/**
 * The SQL ceiling of an operation: replays the statement sequence the capture recorded,
 * with node-postgres (the driver the app uses, the same extended protocol and prepared
 * statement names), on N connections in a tight loop, one sequence after another, for a
 * fixed time. Nothing else runs: no HTTP, no GraphQL, no ORM.
 *
 * Each iteration gets fresh inputs, and values flow the way they did in the capture:
 *  - a captured input (sender, recipient, conversation, clientMessageId…) is replaced by
 *    this iteration's value, also inside strings (lock keys, rate-limit keys, JSON);
 *  - an id that an earlier statement returned (RETURNING id, a looked-up row) is replaced
 *    by what that statement returned this time;
 *  - an id the app generated for a new row (first seen in an INSERT) gets a fresh one;
 *  - sequence numbers derived from a returned counter (last_seq + k) follow the counter;
 *  - times move with the clock (Dates, ISO strings, epoch milliseconds).
 * A statement that fails rolls its transaction back and counts as an error. Statements the
 * app sent on its rate limiters' pool (asynchronous commit) go to a connection set up
 * the same way, so the ceiling commits exactly as the app does.
 *
 * `node dist/bench/replay.js job.json out.json`
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { Latencies } from './lib/common';
import type { CapturedOp, ReplayJob, ReplayResult } from './lib/replay-types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)?$/;
const DIGITS = /^-?\d{1,18}$/;
const SEQ_WINDOW = 64n;

type SeqLink = { captured: bigint; replayed: bigint };

class Iteration {
  readonly ids = new Map<string, string>();
  readonly seqs: SeqLink[] = [];
  constructor(readonly dtMs: number) {}

  /** Set while substituting a statement that inserts: an unknown id there was made by the app. */
  inserting = false;

  value(v: unknown): unknown {
    if (v === null || v === undefined || typeof v === 'boolean') return v;
    if (typeof v === 'object' && !Array.isArray(v) && '$date' in (v as object)) return new Date(Date.parse((v as { $date: string }).$date) + this.dtMs);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (typeof v === 'number') {
      if (v > 1.5e12 && v < 2.5e12) return Math.round(v + this.dtMs); // epoch ms (rate limiter)
      return v;
    }
    if (typeof v === 'string') return this.text(v);
    return v;
  }

  private text(s: string): string {
    const direct = this.ids.get(s);
    if (direct !== undefined) return direct;
    if (UUID.test(s)) {
      // Neither an input nor something the database returned: an id the app generated
      // for a new row (randomUUID) gets a fresh one, kept for the statements after it;
      // anything else is a constant.
      if (!this.inserting) return s;
      const fresh = randomUUID();
      this.ids.set(s, fresh);
      return fresh;
    }
    if (DIGITS.test(s)) return this.seq(s);
    if (ISO.test(s)) {
      const t = Date.parse(s);
      return Number.isNaN(t) ? s : new Date(t + this.dtMs).toISOString();
    }
    if (this.ids.size === 0) return s;
    // Ids inside strings: lock keys, rate-limit keys, JSON payloads.
    return s.replace(UUID_G, (m) => this.ids.get(m) ?? this.ids.get(m.toLowerCase()) ?? m);
  }

  private seq(s: string): string {
    if (!this.seqs.length) return s;
    const v = BigInt(s);
    let best: SeqLink | null = null;
    for (const l of this.seqs) {
      const d = v - l.captured;
      if (d <= SEQ_WINDOW && d >= -SEQ_WINDOW && (!best || abs(d) < abs(v - best.captured))) best = l;
    }
    return best ? String(best.replayed + (v - best.captured)) : s;
  }

  learn(capturedRows: Array<Record<string, unknown>>, rows: Array<Record<string, unknown>>): void {
    for (let i = 0; i < Math.min(capturedRows.length, rows.length); i++) {
      for (const [k, cv] of Object.entries(capturedRows[i])) {
        const rv = rows[i][k];
        if (cv == null || rv == null) continue;
        const cs = String(cv);
        const rs = rv instanceof Date ? rv.toISOString() : String(rv);
        if (UUID.test(cs) && UUID.test(rs)) {
          if (!this.ids.has(cs)) this.ids.set(cs, rs);
        } else if (/seq/i.test(k) && DIGITS.test(cs) && DIGITS.test(rs)) {
          this.seqs.push({ captured: BigInt(cs), replayed: BigInt(rs) });
        }
      }
    }
  }
}

const abs = (x: bigint) => (x < 0n ? -x : x);

const TX_START = /^\s*(START TRANSACTION|BEGIN)\b/i;
const TX_END = /^\s*(COMMIT|ROLLBACK)\b/i;

/** One replay worker's connections: like the app's main pool, and like its rate limiters' pool. */
interface Worker {
  client: Client;
  asyncCommit: Client;
}

async function runOnce(worker: Worker, op: CapturedOp, inputs: Record<string, string>): Promise<string | null> {
  const it = new Iteration(Date.now() - op.startedAt);
  for (const [role, captured] of Object.entries(op.inputs)) {
    if (inputs[role] !== undefined) it.ids.set(captured, inputs[role]);
  }
  let inTx = false;
  for (const st of op.statements) {
    if (st.error) continue; // the capture's own failed statements (none expected) are not replayed
    it.inserting = /\bINSERT\s+INTO\b/i.test(st.text);
    const values = st.values.map((v) => it.value(v));
    const client = st.asyncCommit ? worker.asyncCommit : worker.client;
    try {
      const res = st.name ? await client.query({ text: st.text, values, name: st.name }) : await client.query(st.text, values);
      if (TX_START.test(st.text)) inTx = true;
      if (TX_END.test(st.text)) inTx = false;
      const last = Array.isArray(res) ? res[res.length - 1] : res;
      if (st.rows.length) it.learn(st.rows, last.rows ?? []);
    } catch (err) {
      if (inTx) await worker.client.query('ROLLBACK').catch(() => undefined);
      return `${(err as Error).message} — in: ${st.text.replace(/\s+/g, ' ').slice(0, 200)}`;
    }
  }
  return null;
}

async function main() {
  const [jobFile, outFile] = process.argv.slice(2);
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as ReplayJob;
  const connect = async (options?: string) => {
    const c = new Client({ connectionString: job.url, application_name: 'bench-replay', options });
    c.on('error', () => undefined);
    await c.connect();
    // The app's pool sets the same per-session limits.
    await c.query(`SET statement_timeout = 15000`);
    return c;
  };
  const clients: Worker[] = await Promise.all(
    Array.from({ length: job.connections }, async () => ({ client: await connect(), asyncCommit: await connect('-c synchronous_commit=off') })),
  );
  const lat = new Latencies();
  let next = 0;
  let iterations = 0;
  let errors = 0;
  let sampleError: string | undefined;
  let exhausted = false;
  // One untimed pass per connection prepares named statements and warms caches.
  const warm = Math.min(job.connections, job.inputs.length);
  await Promise.all(clients.slice(0, warm).map((c) => runOnce(c, job.op, job.inputs[next++])));
  const t0 = performance.now();
  const end = t0 + job.seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        if (next >= job.inputs.length) {
          if (!job.cycle) {
            exhausted = true;
            return;
          }
          next = 0;
        }
        const inputs = job.inputs[next++];
        const s = performance.now();
        const err = await runOnce(c, job.op, inputs);
        lat.record(performance.now() - s);
        iterations++;
        if (err) {
          errors++;
          sampleError ??= err;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(clients.flatMap((w) => [w.client, w.asyncCommit]).map((c) => c.end().catch(() => undefined)));
  const result: ReplayResult = {
    name: job.op.name,
    connections: job.connections,
    iterations,
    seconds: Math.round(seconds * 100) / 100,
    ops: Math.round((iterations / seconds) * 10) / 10,
    statementsPerOp: job.op.statements.filter((s) => !s.error).length,
    errors,
    sampleError,
    latency: { p50: lat.percentile(50), p99: lat.percentile(99) },
    exhausted,
  };
  writeFileSync(outFile, JSON.stringify(result));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
