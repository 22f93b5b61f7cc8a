import { parentPort, workerData } from 'node:worker_threads';
import { Pool, type PoolClient } from 'pg';
import { MAX_TRANSACTION_ATTEMPTS, RETRYABLE_SQLSTATES } from '../../db/retry';
import { BatchVerdictMismatch, decideSendBatch, type RawBatch } from './send-batch-core';
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
