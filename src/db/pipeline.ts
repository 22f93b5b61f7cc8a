import type { PoolClient } from 'pg';
import type { EntityManager } from 'typeorm';
import { statementsStarted } from './prepared';

type Started = Promise<unknown> | null;
type Answers<T extends readonly Started[]> = { [K in keyof T]: Awaited<T[K]> };

/**
 * Statements of one transaction that need no answer from each other, sent together: one
 * write to PostgreSQL and one round trip instead of one each. PostgreSQL still runs them
 * one after another, in the order given, each seeing what the ones before it did (and, in
 * READ COMMITTED, whatever committed before it started: a read after a lock sees what the
 * lock holder committed). The pool's connections are in node-postgres' pipeline mode
 * (data-source.ts), which writes a statement without waiting for the one before it.
 *
 * `start` calls functions that each write exactly one statement through `prepared` before
 * returning its promise (null: nothing to run there). One that awaited something first
 * would write its statement after the others, out of order: that throws, once every
 * statement already written has answered. The answers come in the same order; the first
 * statement that failed rejects the whole (the ones after it, in a transaction it aborted,
 * fail too and say less).
 */
export async function pipelined<T extends readonly Started[]>(manager: EntityManager, start: () => readonly [...T]): Promise<Answers<T>> {
  const client = (manager.queryRunner as unknown as { databaseConnection?: PoolClient } | undefined)?.databaseConnection;
  if (!client) throw new Error("pipelined() runs in a transaction whose connection is open (its first statement was sent)");
  const stream = (client as unknown as { connection: { stream: NodeJS.WritableStream & { cork(): void; uncork(): void } } }).connection.stream;
  const before = statementsStarted;
  let started: readonly Started[];
  stream.cork();
  try {
    started = start();
  } finally {
    stream.uncork();
  }
  const reached = statementsStarted - before;
  const settled = await Promise.allSettled(started.map((s) => s ?? Promise.resolve(undefined)));
  const expected = started.filter((s) => s !== null).length;
  if (reached !== expected) throw new Error(`pipelined(): ${expected} statements started, ${reached} reached at once; one awaited before its statement`);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as Answers<T>;
}
