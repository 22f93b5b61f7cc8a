import { round, withClient } from './common';
import { postgresCpuMs, processCpuMs, processWriteCalls } from './procs';

/**
 * What one chat window cost (issue 16.4), read from outside the processes: the server's and
 * PostgreSQL's CPU, the WAL written, checkpoints and the server's GC pauses inside the
 * window. Each snapshot reads the CPU at the window's edge and does its SQL and its
 * /metrics request outside it, so the probe's own work is not counted.
 */

export interface WindowCost {
  seconds: number;
  /** utime + stime of the server process over the window (ms). */
  serverCpuMs: number | null;
  /** Write system calls of the server process (all its threads: sockets to clients and to PostgreSQL, logs, wake-ups between threads). */
  serverWrites: number | null;
  /** All postgres processes of the machine, reaped children included (ms): others' tests are noise in it. */
  postgresCpuMs: number;
  /** Checkpoints started inside the window (timed + requested). */
  checkpoints: number | null;
  /**
   * Of those, requested ones: by WAL volume (max_wal_size), or forced by a CHECKPOINT, a
   * DROP DATABASE or a CREATE DATABASE … STRATEGY FILE_COPY anywhere on the server (a test
   * suite dropping its per-file databases does that).
   */
  checkpointsRequested: number | null;
  /** Buffers the checkpointer wrote inside the window: also a checkpoint that started before it. */
  checkpointBuffers: number | null;
  /** Buffers backends had to write themselves to find a free one (shared_buffers too small, or the bgwriter behind). */
  backendBuffers: number | null;
  /** WAL written by the whole server (bytes), and full-page images among its records. */
  walBytes: number | null;
  walFpi: number | null;
  /** The server's GC pauses (prom-client's nodejs_gc_duration_seconds, all kinds). */
  gc: { count: number; ms: number; over10ms: number } | null;
  /** conversation_members in the bench database: its updates, how many were HOT, dead rows at the end, autovacuums. */
  members: { updates: number; hotUpdates: number; deadTuples: number; autovacuums: number } | null;
}

interface PgSample {
  checkpoints: number;
  requested: number;
  checkpointBuffers: number;
  backendBuffers: number | null;
  walBytes: number;
  walFpi: number;
  members: { updates: number; hotUpdates: number; deadTuples: number; autovacuums: number } | null;
}

interface GcSample {
  count: number;
  seconds: number;
  /** Pauses of at most 10 ms (the histogram's le="0.01" buckets). */
  upTo10ms: number;
}

/** Opens a window just after this resolves; the returned function closes it. */
export async function openWindow(o: { serverPid?: number; base?: string; dbUrl?: string }): Promise<() => Promise<WindowCost>> {
  const gc0 = o.base ? await gcSample(o.base) : null;
  const pg0 = o.dbUrl ? await pgSample(o.dbUrl) : null;
  const t0 = Date.now();
  const s0 = o.serverPid ? processCpuMs(o.serverPid) : null;
  const w0 = o.serverPid ? processWriteCalls(o.serverPid) : null;
  const p0 = postgresCpuMs();
  return async () => {
    const s1 = o.serverPid ? processCpuMs(o.serverPid) : null;
    const w1 = o.serverPid ? processWriteCalls(o.serverPid) : null;
    const p1 = postgresCpuMs();
    const seconds = (Date.now() - t0) / 1000;
    const pg1 = o.dbUrl ? await pgSample(o.dbUrl) : null;
    const gc1 = o.base ? await gcSample(o.base) : null;
    const diff = (f: (s: PgSample) => number | null): number | null => {
      const a = pg0 ? f(pg0) : null;
      const b = pg1 ? f(pg1) : null;
      return a != null && b != null ? b - a : null;
    };
    const m0 = pg0?.members;
    const m1 = pg1?.members;
    return {
      seconds: round(seconds, 2) ?? 0,
      serverCpuMs: s0 != null && s1 != null ? s1 - s0 : null,
      serverWrites: w0 != null && w1 != null ? w1 - w0 : null,
      // Never below zero: see cpuWindow in procs.ts.
      postgresCpuMs: Math.max(0, p1 - p0),
      checkpoints: diff((s) => s.checkpoints),
      checkpointsRequested: diff((s) => s.requested),
      checkpointBuffers: diff((s) => s.checkpointBuffers),
      backendBuffers: diff((s) => s.backendBuffers),
      walBytes: diff((s) => s.walBytes),
      walFpi: diff((s) => s.walFpi),
      gc:
        gc0 && gc1
          ? { count: gc1.count - gc0.count, ms: round((gc1.seconds - gc0.seconds) * 1000, 1) ?? 0, over10ms: gc1.count - gc1.upTo10ms - (gc0.count - gc0.upTo10ms) }
          : null,
      members:
        m0 && m1
          ? { updates: m1.updates - m0.updates, hotUpdates: m1.hotUpdates - m0.hotUpdates, deadTuples: m1.deadTuples, autovacuums: m1.autovacuums - m0.autovacuums }
          : null,
    };
  };
}

/**
 * The tables a chat send writes (send-batch.ts). conversation_members' updates are never
 * HOT (activity_at is a key of the inbox index), so each message leaves two dead versions
 * there that only a vacuum removes.
 */
const CHAT_TABLES = ['conversation_members', 'conversations', 'event_counters', 'rate_limits', 'messages', 'events'];

export interface VacuumCost {
  ms: number;
  /** All postgres processes' CPU while it ran (ms). */
  postgresCpuMs: number;
  /** Dead rows in those tables when it started (PostgreSQL's statistics: up to a second behind). */
  deadRows: number | null;
}

/**
 * VACUUM of the chat's tables, as autovacuum would do in production (these machines' shared
 * PostgreSQL runs with autovacuum off for the test suites). Before a chat window, so that it
 * does not carry what earlier workloads left; after it, so that what vacuuming its own
 * garbage costs is measured and charged to it (docs/decisions.md).
 */
export async function vacuumChatTables(url: string): Promise<VacuumCost | null> {
  try {
    return await withClient(url, async (c) => {
      const dead = (await c.query(`SELECT sum(n_dead_tup)::bigint AS n FROM pg_stat_user_tables WHERE relname = ANY($1)`, [CHAT_TABLES])).rows[0].n;
      const t0 = Date.now();
      const p0 = postgresCpuMs();
      await c.query(`VACUUM (ANALYZE false) ${CHAT_TABLES.join(', ')}`);
      const p1 = postgresCpuMs();
      return { ms: Date.now() - t0, postgresCpuMs: Math.max(0, p1 - p0), deadRows: dead == null ? null : Number(dead) };
    });
  } catch {
    return null;
  }
}

/** Cumulative counters; PostgreSQL 17 moved the checkpointer's into pg_stat_checkpointer. */
async function pgSample(url: string): Promise<PgSample | null> {
  try {
    return await withClient(url, async (c) => {
      const v = Number((await c.query('SHOW server_version_num')).rows[0].server_version_num);
      const ckpt =
        v >= 170000
          ? (await c.query('SELECT num_timed + num_requested AS n, num_requested AS req, buffers_written AS b, NULL AS backend FROM pg_stat_checkpointer')).rows[0]
          : (await c.query('SELECT checkpoints_timed + checkpoints_req AS n, checkpoints_req AS req, buffers_checkpoint AS b, buffers_backend AS backend FROM pg_stat_bgwriter')).rows[0];
      const wal = (await c.query('SELECT wal_bytes, wal_fpi FROM pg_stat_wal')).rows[0];
      // This backend's own snapshot is fresh (a new connection); other backends report
      // their table counts at most about once a second, which the drain before this covers.
      const m = (
        await c.query(
          `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot, n_dead_tup AS dead, autovacuum_count AS av FROM pg_stat_user_tables WHERE relname = 'conversation_members'`,
        )
      ).rows[0];
      return {
        checkpoints: Number(ckpt.n),
        requested: Number(ckpt.req),
        checkpointBuffers: Number(ckpt.b),
        backendBuffers: ckpt.backend == null ? null : Number(ckpt.backend),
        walBytes: Number(wal.wal_bytes),
        walFpi: Number(wal.wal_fpi),
        members: m ? { updates: Number(m.upd), hotUpdates: Number(m.hot), deadTuples: Number(m.dead), autovacuums: Number(m.av) } : null,
      };
    });
  } catch {
    return null;
  }
}

/** The server's GC pauses so far, from its /metrics (null for a server without them: the bare one). */
async function gcSample(base: string): Promise<GcSample | null> {
  try {
    const res = await fetch(`${base}/metrics`);
    if (!res.ok) return null;
    const text = await res.text();
    let count = 0;
    let seconds = 0;
    let upTo10ms = 0;
    let found = false;
    for (const line of text.split('\n')) {
      if (!line.startsWith('nodejs_gc_duration_seconds')) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (line.startsWith('nodejs_gc_duration_seconds_count')) {
        count += value;
        found = true;
      } else if (line.startsWith('nodejs_gc_duration_seconds_sum')) seconds += value;
      else if (line.startsWith('nodejs_gc_duration_seconds_bucket') && line.includes('le="0.01"')) upTo10ms += value;
    }
    return found ? { count, seconds, upTo10ms } : null;
  } catch {
    return null;
  }
}
