import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError, type DataSource, type EntityManager } from 'typeorm';
import { MAX_TRANSACTION_ATTEMPTS, RETRYABLE_SQLSTATES } from './retry';

/**
 * A unit of work: one PostgreSQL transaction plus hooks. `beforeCommit` hooks run inside
 * the transaction after the work (the event log writes its batch there, in a fixed lock
 * order); `afterCommit` hooks run only once the commit succeeded (publishing to
 * subscribers), so nobody hears of a change that was rolled back.
 */
export interface Tx {
  readonly manager: EntityManager;
  /** Values shared by hooks for this transaction only (e.g. the event outbox). */
  readonly bag: Map<unknown, unknown>;
  beforeCommit(fn: () => Promise<void>): void;
  afterCommit(fn: () => void | Promise<void>): void;
}


export async function runInTransaction<T>(dataSource: DataSource, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const before: Array<() => Promise<void>> = [];
    const after: Array<() => void | Promise<void>> = [];
    try {
      const result = await dataSource.transaction(async (manager) => {
        const tx: Tx = {
          manager,
          bag: new Map(),
          beforeCommit: (fn) => before.push(fn),
          afterCommit: (fn) => after.push(fn),
        };
        const value = await work(tx);
        for (let i = 0; i < before.length; i++) await before[i]();
        return value;
      });
      await runAfterCommit(after);
      return result;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE_SQLSTATES.has(code) && attempt < MAX_TRANSACTION_ATTEMPTS) continue;
      if (err instanceof QueryRunnerAlreadyReleasedError || err instanceof QueryRunnerProviderAlreadyReleasedError) {
        // The connection died mid-transaction (e.g. PostgreSQL restarting): TypeORM released
        // the query runner on the client's 'error' and the next statement found it gone.
        // Nothing was committed; say so as the connection failure it is (SERVICE_UNAVAILABLE).
        throw Object.assign(new Error('Connection terminated during a transaction', { cause: err }), { code: '08006' });
      }
      throw err;
    }
  }
}

async function runAfterCommit(after: ReadonlyArray<() => void | Promise<void>>): Promise<void> {
  for (const fn of after) {
    try {
      await fn();
    } catch {
      // After-commit work is best effort: the change is durable and the event log
      // lets clients catch up; a publish failure must not fail the mutation.
    }
  }
}

/**
 * A unit of work that was committed elsewhere (the send batch thread's connection): code
 * written for a Tx registers its after-commit work on `tx` as usual, and `committed()` runs
 * it. It has no connection of its own: nothing may run statements or before-commit hooks on it.
 */
export function committedElsewhere(manager: EntityManager): { tx: Tx; committed(): Promise<void> } {
  const after: Array<() => void | Promise<void>> = [];
  const tx: Tx = {
    manager,
    bag: new Map(),
    beforeCommit: () => {
      throw new Error('this unit of work has committed already');
    },
    afterCommit: (fn) => after.push(fn),
  };
  return { tx, committed: () => runAfterCommit(after) };
}

/** Postgres unique_violation on a named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.code ?? e.driverError?.code;
  const name = e.constraint ?? e.driverError?.constraint;
  return code === '23505' && (!constraint || name === constraint);
}
