import 'reflect-metadata';
import path from 'node:path';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import { types } from 'pg';
import { entities } from './entities';

// DATE columns (birth dates) stay 'YYYY-MM-DD' strings in raw queries too: pg would
// otherwise make a Date at local midnight and shift the day in some time zones.
types.setTypeParser(types.builtins.DATE, (value: string) => value);

export interface DataSourceOptions {
  url: string;
  /** Only tests may synchronise; everywhere else the committed migrations rule. */
  poolSize?: number;
  logger?: TypeOrmLogger;
  applicationName?: string;
}

const migrationsGlob = path.join(__dirname, '..', '..', 'migrations', '*.{ts,js}');

export function createDataSource(opts: DataSourceOptions): DataSource {
  const options: PostgresDataSourceOptions = {
    type: 'postgres',
    url: opts.url,
    entities,
    migrations: [migrationsGlob],
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    logging: opts.logger ? ['query'] : false,
    logger: opts.logger,
    applicationName: opts.applicationName ?? 'message-requests',
    extra: {
      max: opts.poolSize ?? 20,
      // A new connection costs a backend start, a cold catalog cache and re-preparing the
      // named statements: tens of milliseconds on the first requests after a lull. pg's
      // default closed idle connections after 10 s; keep them a minute, and a few for good.
      min: 4,
      idleTimeoutMillis: 60_000,
      connectionTimeoutMillis: 5000,
      // Statements a transaction starts without waiting for the one before (pipelined())
      // are written at once; code that awaits each statement runs as it would without.
      pipeline: true,
      // Bound every statement so a stuck lock answers an error instead of hanging a client.
      statement_timeout: 15000,
      idle_in_transaction_session_timeout: 30000,
    },
  };
  return new DataSource(options);
}

/** Exclude .d.ts files that tsc may place beside compiled migrations. */
export function isMigrationFile(file: string): boolean {
  return !file.endsWith('.d.ts');
}
