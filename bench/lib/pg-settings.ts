import { Client } from 'pg';
import { ADMIN_URL, log, withClient } from './common';

/**
 * The PostgreSQL settings the bench runs with (issue 16.3; the reasons are in
 * docs/deployment.md § PostgreSQL settings). The server is shared with everyone's tests, so
 * each setting is applied as narrowly as PostgreSQL allows:
 * - per database (the bench's copy) where the setting may be: jit, wal_compression;
 * - server-wide, reloadable, only for the bench's duration: ALTER SYSTEM + pg_reload_conf()
 *   at the start, and at the end (also on failure or a signal) back to what
 *   postgresql.auto.conf held before;
 * - shared_buffers needs a restart: never changed here, only reported.
 * fsync and synchronous_commit are never touched: an acknowledged send must be durable.
 */

/** Set on each fresh copy of the seed with ALTER DATABASE (new sessions pick them up). */
export const DATABASE_SETTINGS: Record<string, string> = {
  // OLTP statements of well under a millisecond gain nothing from JIT; a misestimated plan
  // over jit_above_cost would pay LLVM's compile (tens of ms) inside one request.
  jit: 'off',
  // Superuser-settable: set per database by a superuser, every role's sessions get it, so
  // it need not touch the shared server. lz4: the cheapest of the three codecs.
  wal_compression: 'lz4',
};

/** Reloadable, server-wide: applied for the bench's duration only. */
export const SERVER_SETTINGS: Record<string, string> = {
  // Longer than a repetition (each starts with the forced checkpoint of its database copy),
  // so no timed checkpoint starts inside a workload.
  checkpoint_timeout: '15min',
  // A checkpoint is requested once WAL since the last one passes
  // max_wal_size / (1 + checkpoint_completion_target): 1GB (the default) meant ~540 MB,
  // under two minutes of chat at 1k msg/s (~8 KB of WAL each). What deployment.md says.
  max_wal_size: '16GB',
};

/** Reported, not changed (needs a restart of a server others use). */
const REPORTED = ['shared_buffers', 'checkpoint_completion_target', 'full_page_writes', 'fsync', 'synchronous_commit', 'autovacuum_naptime'];

export interface PgSettingsRecord {
  /** What the bench set server-wide, and what postgresql.auto.conf held before (null: nothing). */
  server: Array<{ name: string; applied: string; before: string | null }>;
  /** Why nothing was applied server-wide, when it was not. */
  serverSkipped?: string;
  database: Record<string, string>;
  /** SHOW values once applied, as a bench session sees them (per-database ones included). */
  effective: Record<string, string>;
  /** conversation_members' storage parameters in the seed (the migration's reloptions). */
  conversationMembers?: string[] | null;
}

// One bench at a time changes the server's settings: a second bench would reset them under
// the first when it ends. The lock lives as long as this connection (the process).
const LOCK_KEY = 0x6d72_6265; // 'mrbe'
let holder: Client | null = null;
let applied: PgSettingsRecord['server'] = [];

/** ALTER SYSTEM + reload for SERVER_SETTINGS, remembering what was there. */
export async function applyServerSettings(): Promise<Pick<PgSettingsRecord, 'server' | 'serverSkipped'>> {
  const c = new Client({ connectionString: ADMIN_URL, application_name: 'bench settings' });
  c.on('error', () => undefined);
  await c.connect();
  const got = (await c.query('SELECT pg_try_advisory_lock($1) AS ok', [LOCK_KEY])).rows[0].ok as boolean;
  if (!got) {
    await c.end();
    const why = 'another bench run holds the settings lock: its settings apply, and it resets them when it ends';
    log(`pg settings: ${why}`);
    return { server: [], serverSkipped: why };
  }
  holder = c;
  const names = Object.keys(SERVER_SETTINGS);
  const prior = new Map<string, string>(
    (await c.query(`SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' AND name = ANY($1) AND applied IS NOT FALSE`, [names])).rows.map(
      (r: { name: string; setting: string }) => [r.name, r.setting],
    ),
  );
  applied = [];
  for (const [name, value] of Object.entries(SERVER_SETTINGS)) {
    const before = prior.get(name) ?? null;
    if (before === value) log(`pg settings: ${name} = ${value} is already in postgresql.auto.conf (left by a killed run? see docs/performance.md to reset it)`);
    await c.query(`ALTER SYSTEM SET ${name} = '${value}'`);
    applied.push({ name, applied: value, before });
  }
  await c.query('SELECT pg_reload_conf()');
  log(`pg settings: ${applied.map((s) => `${s.name} = ${s.applied}`).join(', ')} (ALTER SYSTEM, until the end of the run)`);
  return { server: applied };
}

/** Puts postgresql.auto.conf back as it was and reloads; idempotent, safe on any exit path. */
export async function restoreServerSettings(): Promise<void> {
  const c = holder;
  if (!c) return;
  holder = null;
  try {
    for (const s of applied) {
      await c.query(s.before == null ? `ALTER SYSTEM RESET ${s.name}` : `ALTER SYSTEM SET ${s.name} = '${s.before.replace(/'/g, "''")}'`);
    }
    await c.query('SELECT pg_reload_conf()');
    log(`pg settings: ${applied.map((s) => s.name).join(', ')} restored`);
  } catch (err) {
    log(`pg settings: could not restore (${(err as Error).message}); reset by hand: ${applied.map((s) => `ALTER SYSTEM RESET ${s.name};`).join(' ')} SELECT pg_reload_conf();`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** DATABASE_SETTINGS on one database (before any session of the server connects to it). */
export async function applyDatabaseSettings(database: string): Promise<void> {
  await withClient(ADMIN_URL, async (c) => {
    for (const [name, value] of Object.entries(DATABASE_SETTINGS)) await c.query(`ALTER DATABASE ${database} SET ${name} = '${value}'`);
  });
}

/** What a session on `url` sees: the settings above and the ones reported only. */
export async function effectiveSettings(url: string): Promise<Record<string, string>> {
  return withClient(url, async (c) => {
    const names = [...Object.keys(DATABASE_SETTINGS), ...Object.keys(SERVER_SETTINGS), ...REPORTED];
    const rows = (await c.query(`SELECT name, current_setting(name) AS value FROM unnest($1::text[]) AS name`, [names])).rows as Array<{ name: string; value: string }>;
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  });
}

/** conversation_members' reloptions (autovacuum and fillfactor from the migration). */
export async function memberTableOptions(url: string): Promise<string[] | null> {
  return withClient(url, async (c) => (await c.query(`SELECT reloptions FROM pg_class WHERE oid = 'conversation_members'::regclass`)).rows[0]?.reloptions ?? null);
}
