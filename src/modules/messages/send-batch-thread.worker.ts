import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Pool, type PoolClient } from 'pg';
import { MAX_TRANSACTION_ATTEMPTS, RETRYABLE_SQLSTATES } from '../../db/retry';
import { spacingWaitMs } from './batch-spacing';
import { BATCH_APPEND_STATEMENT, BatchVerdictMismatch, decideSendBatch, type QueuedSend, type RateWindow, type RawBatch } from './send-batch-core';
import type { ThreadData, ThreadReply, ThreadRequest } from './send-batch-thread';

/**
 * The send batches' transactions, on a thread of their own (see send-batch-thread.ts):
 * one batch at a time, each taking every chunk of sends that arrived while the one before
 * it ran; BEGIN, the batch's two statements, COMMIT, each answered as soon as PostgreSQL
 * answers, whatever the main thread is busy with. Deadlocks and serialization failures run
 * the batch again, as runInTransaction does; any other failure is rolled back and reported.
 */
const { connection, sql, maxBatch, spacing } = workerData as ThreadData;
const pool = new Pool(connection);
// An idle connection the server closed (a restart): the next batch gets a new one.
pool.on('error', () => undefined);
const post = (reply: ThreadReply) => parentPort!.postMessage(reply);

type Chunk = Extract<ThreadRequest, { sends: unknown }>;
/** Chunks waiting for the batch in flight, in the order they came. */
const waiting: Chunk[] = [];
let running = false;
/** When the last batch started (performance.now()), and how long batches take (moving average, ms). */
let lastStart = -Infinity;
let batchMs = 0;
/** Set while the next batch waits for the spacing (see next). */
let spacingTimer: NodeJS.Timeout | null = null;
/** The app's close: what waits goes at once, and the pool ends once nothing runs or waits. */
let closeId: number | null = null;

/**
 * Opens the thread's connection and prepares the batch's statements on it (run over no
 * sends, rolled back), so that the first batches under load, when the thread is needed,
 * do not also pay for a backend start and planning. Best effort: a failure leaves a cold
 * connection, nothing else.
 */
async function warm(): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await decideSendBatch(async (name, text, values) => (await client.query({ name, text, values })).rows, sql, [], new Date(), { points: 1, windowMs: 1 });
    await client.query({ name: BATCH_APPEND_STATEMENT, text: sql.factsAndAppend, values: [[], [], [], [], [], [], [], [], new Date()] });
    await client.query('ROLLBACK');
  } catch (err) {
    broken = err as Error;
  } finally {
    client.release(broken);
  }
}
// Ready once warmed (or not: a batch then opens its connection itself).
void warm()
  .catch(() => undefined)
  .finally(() => post({ id: 0, ready: true }));

async function runBatch(sends: QueuedSend[], now: Date, rate: RateWindow): Promise<{ batch: RawBatch; statements: string[]; retried: number }> {
  const statements: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const client: PoolClient = await pool.connect();
    let broken: Error | undefined;
    try {
      const run = async (text: string, name?: string, values?: unknown[]) => {
        statements.push(text);
        return (await client.query(name ? { name, text, values } : text)).rows;
      };
      await run('BEGIN');
      const batch = await decideSendBatch((name, text, values) => run(text, name, values), sql, sends, now, rate);
      await run('COMMIT');
      return { batch, statements, retried: attempt - 1 };
    } catch (err) {
      // A connection that cannot roll back is dropped, never handed to the next batch.
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      const code = (err as { code?: string }).code;
      if (!broken && code && RETRYABLE_SQLSTATES.has(code) && attempt < MAX_TRANSACTION_ATTEMPTS) continue;
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/**
 * Runs the next batch, if none runs: the waiting chunks, whole, up to `maxBatch` sends
 * (always at least one chunk), once the spacing under load allows (batch-spacing.ts).
 */
function next(): void {
  if (running || waiting.length === 0) return endIfClosing();
  const now = performance.now();
  const waitingSends = waiting.reduce((n, c) => n + c.sends.length, 0);
  const wait = closeId !== null ? 0 : spacingWaitMs({ nowMs: now, lastStartMs: lastStart, batchMs, waitingSends, maxBatch, spacing });
  if (wait > 0) {
    spacingTimer ??= setTimeout(() => {
      spacingTimer = null;
      next();
    }, wait);
    return;
  }
  // A batch that filled up (or the close) while the timer ran does not wait for it.
  if (spacingTimer) {
    clearTimeout(spacingTimer);
    spacingTimer = null;
  }
  lastStart = now;
  const taken = [waiting.shift()!];
  let size = taken[0].sends.length;
  while (waiting.length > 0 && size + waiting[0].sends.length <= maxBatch) {
    size += waiting[0].sends.length;
    taken.push(waiting.shift()!);
  }
  running = true;
  const ids = taken.map((c) => c.id);
  post({ started: ids });
  // One time for the batch's rows and rate windows: the latest the main thread gave.
  const nowMs = Math.max(...taken.map((c) => c.nowMs));
  const began = performance.now();
  runBatch(
    taken.flatMap((c) => c.sends),
    new Date(nowMs),
    taken[taken.length - 1].rate,
  )
    .then(
      (done) => {
        const tookMs = performance.now() - began;
        batchMs = batchMs === 0 ? tookMs : 0.8 * batchMs + 0.2 * tookMs;
        post({ ids, ...done, nowMs, tookMs });
      },
      (err: Error & { code?: string }) => post({ ids, error: { message: err.message, code: err.code, mismatch: err instanceof BatchVerdictMismatch } }),
    )
    .finally(() => {
      running = false;
      next();
    });
}

/** Ends the pool for the app's close once the last batch has answered (its connection is checked out until then). */
function endIfClosing(): void {
  if (closeId === null || running || waiting.length > 0) return;
  const id = closeId;
  closeId = null;
  void pool.end().finally(() => post({ id, closed: true }));
}

parentPort!.on('message', (req: ThreadRequest) => {
  if ('close' in req) {
    closeId = req.id;
    next();
    return;
  }
  waiting.push(req);
  next();
});
