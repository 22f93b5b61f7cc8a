import { lockPair } from '../../src/db/pair-lock';
import { runInTransaction, type Tx } from '../../src/db/transaction';
import type { TestApp, TestUser } from './app';
import { until } from './until';

/**
 * Runs `work` in a transaction that is then held open; resolves once the work is done.
 * `tx` stays usable while held; `commit()` lets the transaction finish.
 */
export async function holdingTransaction(t: TestApp, work: (tx: Tx) => Promise<void>): Promise<{ tx: Tx; commit(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let ready!: (tx: Tx) => void;
  const workDone = new Promise<Tx>((r) => (ready = r));
  const done = runInTransaction(t.app.dataSource, async (tx) => {
    await work(tx);
    ready(tx);
    await held;
  });
  const tx = await Promise.race([workDone, done.then(() => undefined)]);
  return { tx: tx!, commit: () => (release(), done) };
}

/**
 * Runs `work` in a transaction that first takes a and b's pair lock and is then held open;
 * resolves once the work is done and the lock held. `commit()` lets it finish.
 */
export async function holdingPair(
  t: TestApp,
  a: TestUser,
  b: TestUser,
  work: (tx: Tx) => Promise<void> = async () => undefined,
): Promise<{ commit(): Promise<void> }> {
  return holdingTransaction(t, async (tx) => {
    await lockPair(tx, a.id, b.id);
    await work(tx);
  });
}

/** Until some statement waits on a row lock (another transaction's write), or the operation already answered. */
export async function waitingOnRowLock(t: TestApp, answered: () => boolean): Promise<void> {
  await until('an operation to wait on a row lock', async () => {
    const [row] = await t.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity s USING (pid)
        WHERE l.locktype IN ('transactionid', 'tuple') AND NOT l.granted AND s.datname = current_database()`,
    );
    return row.n > 0 || answered();
  });
}

/** Until some statement waits on an advisory (pair) lock, or the operation already answered. */
export async function waitingOnPairLock(t: TestApp, answered: () => boolean): Promise<void> {
  await until('an operation to wait on the pair lock', async () => {
    const [row] = await t.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity s USING (pid)
        WHERE l.locktype = 'advisory' AND NOT l.granted AND s.datname = current_database()`,
    );
    return row.n > 0 || answered();
  });
}
