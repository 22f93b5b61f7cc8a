import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { QueryRunnerAlreadyReleasedError, type EntityManager } from 'typeorm';

/**
 * Calls of `prepared` in a transaction so far: pipelined() checks that each function it
 * started reached its statement at once (a statement's write, or its refusal on a dead
 * connection, then happens before the call returns).
 */
export let statementsStarted = 0;

/**
 * A statement on the hot paths (sending, delivering) as a named prepared statement, in
 * the caller's transaction when `manager` has one: PostgreSQL then plans it once per
 * connection instead of on every call. The send paths' statements are CTEs and
 * sub-selects whose planning cost more than running them: the rules' facts ran 3× faster
 * prepared (docs/performance.md). Logged like TypeORM's own queries, so the statement
 * counts in tests see it. Each `name` must always go with the same text.
 */
export async function prepared<R extends QueryResultRow = Record<string, unknown>>(
  manager: EntityManager,
  name: string,
  text: string,
  values: unknown[],
): Promise<QueryResult<R>> {
  const runner = manager.queryRunner;
  manager.connection.logger.logQuery(text, values, runner);
  if (runner) {
    statementsStarted++;
    // As TypeORM does: a transaction whose connection died must not go on elsewhere.
    if (runner.isReleased) throw new QueryRunnerAlreadyReleasedError();
    // Once the transaction's connection is open the statement is written before this call
    // returns, so statements started one after another leave in that order (pipelined()).
    const open = (runner as unknown as { databaseConnection?: PoolClient }).databaseConnection;
    const client = open ?? ((await runner.connect()) as PoolClient);
    return client.query<R>({ name, text, values });
  }
  // Outside a transaction: any pooled connection (each prepares the statement once).
  const pool = (manager.connection.driver as unknown as { master: Pool }).master;
  return pool.query<R>({ name, text, values });
}

/** `prepared` for a statement that answers one row (or none): the row, or undefined. */
export async function preparedRow<R extends QueryResultRow = Record<string, unknown>>(
  manager: EntityManager,
  name: string,
  text: string,
  values: unknown[],
): Promise<R | undefined> {
  return (await prepared<R>(manager, name, text, values)).rows[0];
}

/** `prepared` for a statement that always answers exactly one row (an INSERT … RETURNING, a `FROM (SELECT 1)` read). */
export async function preparedOne<R extends QueryResultRow = Record<string, unknown>>(
  manager: EntityManager,
  name: string,
  text: string,
  values: unknown[],
): Promise<R> {
  const row = await preparedRow<R>(manager, name, text, values);
  if (!row) throw new Error(`prepared statement ${name} answered no row`);
  return row;
}
