import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { log, sleep } from './common';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const DIST = path.join(ROOT, 'dist');
const CLK_TCK = 100;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface ServerProcess {
  name: string;
  pid: number;
  port: number;
  url: string;
  wsUrl: string;
  base: string;
  child: ChildProcess;
  /** Memory after two full GCs, asked of the process itself. */
  memory(): Promise<MemorySample | null>;
  stop(): Promise<void>;
  output(): string;
}

export interface StartOptions {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Directory for `node --cpu-prof` output; no profiling when absent. */
  cpuProfDir?: string;
  /** Node and V8 flags for the process (BENCH_NODE_FLAGS, for our server: tuning measured as a deployment would set it). */
  nodeFlags?: string[];
  readyPath?: string;
  timeoutMs?: number;
}

const running = new Set<ServerProcess>();

/** Spawns a server in its own process and waits until it answers on readyPath. */
export async function startServer(opts: StartOptions): Promise<ServerProcess> {
  const port = await freePort();
  const args = ['--expose-gc', '-r', path.join(DIST, 'bench', 'probe.js')];
  if (opts.cpuProfDir) {
    mkdirSync(opts.cpuProfDir, { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, '--cpu-prof-interval', '500');
  }
  args.push(...(opts.nodeFlags ?? []));
  args.push(opts.script);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...opts.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let nextId = 1;
  const waiting = new Map<number, (m: MemorySample | null) => void>();
  child.on('message', (m: { id: number; mem: MemorySample }) => {
    waiting.get(m.id)?.(m.mem);
    waiting.delete(m.id);
  });
  let exited = false;
  const exitedP = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`${opts.name} exited during start:\n${out.slice(-4000)}`);
    try {
      const res = await fetch(base + (opts.readyPath ?? '/healthz'));
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.name} did not become ready:\n${out.slice(-4000)}`);
    }
    await sleep(100);
  }
  const proc: ServerProcess = {
    name: opts.name,
    pid: child.pid!,
    port,
    base,
    url: `${base}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    child,
    output: () => out,
    memory: () =>
      new Promise((resolve) => {
        if (exited || !child.connected) return resolve(null);
        const id = nextId++;
        waiting.set(id, resolve);
        child.send({ id, cmd: 'mem' });
        setTimeout(() => {
          if (waiting.delete(id)) resolve(null);
        }, 10_000);
      }),
    stop: async () => {
      running.delete(proc);
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
      await exitedP;
      clearTimeout(timer);
    },
  };
  running.add(proc);
  log(`${opts.name}: pid ${child.pid} on port ${port}`);
  return proc;
}

/** Stops every server this process started (also on errors and signals). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop().catch(() => undefined)));
}

// ---- CPU accounting from /proc ---------------------------------------------------------------

function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function procTicks(pid: number): number | null {
  const f = statFields(pid);
  return f ? Number(f[11]) + Number(f[12]) : null; // utime + stime
}

/**
 * CPU ticks of every process whose name starts with `postgres` (all databases: others' tests
 * add noise, noted in the docs), their reaped children's included (cutime + cstime): a
 * backend that exits inside a window hands its ticks to the postmaster, so differences of
 * this sum count it exactly once.
 */
export function postgresTicks(): number {
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/comm`, 'utf8').startsWith('postgres')) continue;
    } catch {
      continue; // gone
    }
    const f = statFields(d);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks;
}

/** utime + stime of one process in milliseconds (null once it is gone). */
export function processCpuMs(pid: number): number | null {
  const t = procTicks(pid);
  return t == null ? null : (t * 1000) / CLK_TCK;
}

/**
 * Write system calls (write, writev, …) by every thread of one process so far: /proc/<pid>/io's
 * syscw (null once it is gone). Also counts libuv's wake-ups of another thread's loop
 * (an eventfd write per postMessage that finds it asleep), not only socket writes.
 */
export function processWriteCalls(pid: number): number | null {
  try {
    const m = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** postgresTicks() in milliseconds. */
export function postgresCpuMs(): number {
  return (postgresTicks() * 1000) / CLK_TCK;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + line[4];
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface CpuWindow {
  /** Percent of one core, over the window. */
  server: number | null;
  postgres: number;
  loadgen: number;
  /** Percent of the whole machine (2 cores = 100 %). */
  machine: number;
  /** Everything else on the machine (other engineers' tests…), in percent of one core: noise. */
  others: number;
}

/** Starts a CPU window over the given server pids; the returned function closes it. */
export function cpuWindow(serverPid: number | null): () => CpuWindow {
  const t0 = Date.now();
  const s0 = serverPid ? procTicks(serverPid) : null;
  const pg0 = postgresTicks();
  const me0 = process.cpuUsage();
  const m0 = machineTicks();
  return () => {
    const secs = (Date.now() - t0) / 1000;
    const s1 = serverPid ? procTicks(serverPid) : null;
    // Never below zero: a test's own PostgreSQL cluster that stops inside the window takes
    // its postmaster's lifetime ticks out of the sum (they go to its non-postgres parent).
    const pg = Math.max(0, postgresTicks() - pg0);
    const me = process.cpuUsage(me0);
    const m1 = machineTicks();
    const pct = (ticks: number) => Math.round((ticks / CLK_TCK / secs) * 1000) / 10;
    const server = s0 != null && s1 != null ? pct(s1 - s0) : null;
    const postgres = pct(pg);
    const loadgen = Math.round(((me.user + me.system) / 1e6 / secs) * 1000) / 10;
    const machine = Math.round(((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * 1000) / 10;
    const cores = os.cpus().length;
    const others = Math.max(0, Math.round((machine * cores - (server ?? 0) - postgres - loadgen) * 10) / 10);
    return { server, postgres, loadgen, machine, others };
  };
}

/** Waits until the server process is idle (its own backlog drained), at most maxMs. */
export async function quiet(pid: number, maxMs = 20_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (Date.now() < end) {
    const t0 = procTicks(pid);
    await sleep(300);
    const t1 = procTicks(pid);
    if (t0 == null || t1 == null) return;
    if (((t1 - t0) / CLK_TCK / 0.3) * 100 < 15) return;
  }
}
