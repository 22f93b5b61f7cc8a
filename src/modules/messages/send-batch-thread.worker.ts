import { parentPort, workerData } from 'node:worker_threads';
import { Pool, type PoolClient } from 'pg';
import { MAX_TRANSACTION_ATTEMPTS, RETRYABLE_SQLSTATES } from '../../db/retry';
import { BATCH_APPEND_STATEMENT, BatchVerdictMismatch, decideSendBatch, type RawBatch } from './send-batch-core';
import type { ThreadData, ThreadReply, ThreadRequest } from './send-batch-thread';

/**
 * The send batches' transactions, on a thread of their own (see send-batch-thread.ts):
 * BEGIN, the batch's two statements, COMMIT, each answered as soon as PostgreSQL answers,
 * whatever the main thread is busy with. Deadlocks and serialization failures run the
 * batch again, as runInTransaction does; any other failure is rolled back and reported.
 */
const { connection, sql } = workerData as ThreadData;
const pool = new Pool(connection);
// An idle connection the server closed (a restart): the next batch gets a new one.
pool.on('error', () => undefined);

/**
 * Opens the thread's connections and prepares the batch's statements on each (run over no
 * sends, rolled back), so that the first batches under load, when the thread is needed,
 * do not also pay for backend starts and planning. Best effort: a failure leaves a cold
 * connection, nothing else.
 */
async function warm(): Promise<void> {
  // All asked for at once, so each is a connection of its own.
  await Promise.all(
    Array.from({ length: connection.max ?? 1 }, async () => {
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
    }),
  );
}
// Ready once warmed (or not: a batch then opens its connection itself).
void warm()
  .catch(() => undefined)
  .finally(() => parentPort!.postMessage({ id: 0, ready: true } satisfies ThreadReply));

async function runBatch(req: Extract<ThreadRequest, { sends: unknown }>): Promise<{ batch: RawBatch; statements: string[]; retried: number }> {
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
      const batch = await decideSendBatch((name, text, values) => run(text, name, values), sql, req.sends, new Date(req.nowMs), req.rate);
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

parentPort!.on('message', (req: ThreadRequest) => {
  if ('close' in req) {
    void pool.end().finally(() => parentPort!.postMessage({ id: req.id, closed: true } satisfies ThreadReply));
    return;
  }
  runBatch(req).then(
    (done) => parentPort!.postMessage({ id: req.id, ...done } satisfies ThreadReply),
    (err: Error & { code?: string }) =>
      parentPort!.postMessage({ id: req.id, error: { message: err.message, code: err.code, mismatch: err instanceof BatchVerdictMismatch } } satisfies ThreadReply),
  );
});
