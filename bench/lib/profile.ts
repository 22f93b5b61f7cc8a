import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Summarises a `node --cpu-prof` profile over a time window (the workload's, in the
 * CLOCK_MONOTONIC microseconds V8 and process.hrtime share on Linux): self time by
 * function, and inclusive time by package (each sample counted once per package on its
 * stack), so "where the time goes" reads as "pg 30 %, typeorm 20 %, graphql 15 %…".
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  workload: string;
  windowMs: number;
  sampledMs: number;
  /** Share of the window the main thread was busy (not idle). */
  busyPct: number;
  topSelf: Array<{ fn: string; pct: number }>;
  byPackageInclusive: Array<{ pkg: string; pct: number }>;
  byPackageSelf: Array<{ pkg: string; pct: number }>;
}

export function latestProfile(dir: string): string | null {
  try {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: the main thread's (thread 0), not the send batch thread's.
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0').sort();
    return files.length ? path.join(dir, files[files.length - 1]) : null;
  } catch {
    return null;
  }
}

function packageOf(url: string, fn: string): string {
  if (!url) {
    if (fn === '(garbage collector)') return '(gc)';
    if (fn === '(idle)') return '(idle)';
    if (fn === '(program)') return '(program: native/V8)';
    return '(native)';
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node (core)';
  const src = url.indexOf('/dist/src/');
  if (src >= 0) return `app: ${url.slice(src + '/dist/src/'.length).split('/').slice(0, 2).join('/').replace(/\.js$/, '')}`;
  return url.replace(/^file:\/\//, '');
}

function shortFn(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url ? url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '') : '';
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

export function summarise(file: string, windows: Array<{ workload: string; fromUs: number; toUs: number }>): ProfileSummary[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const times: number[] = [];
  let t = p.startTime;
  for (const d of p.timeDeltas) {
    t += d;
    times.push(t);
  }
  const out: ProfileSummary[] = [];
  for (const w of windows) {
    const self = new Map<number, number>();
    const pkgIncl = new Map<string, number>();
    const pkgSelf = new Map<string, number>();
    let total = 0;
    let idle = 0;
    for (let i = 0; i < p.samples.length; i++) {
      if (times[i] < w.fromUs || times[i] > w.toUs) continue;
      const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i]) / 1000;
      const id = p.samples[i];
      const node = byId.get(id)!;
      total += dt;
      if (node.callFrame.functionName === '(idle)') {
        idle += dt;
        continue;
      }
      self.set(id, (self.get(id) ?? 0) + dt);
      const sp = packageOf(node.callFrame.url, node.callFrame.functionName);
      pkgSelf.set(sp, (pkgSelf.get(sp) ?? 0) + dt);
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const cn = byId.get(cur)!;
        if (cn.callFrame.functionName === '(root)') break;
        const pkg = packageOf(cn.callFrame.url, cn.callFrame.functionName);
        if (!seen.has(pkg)) {
          seen.add(pkg);
          pkgIncl.set(pkg, (pkgIncl.get(pkg) ?? 0) + dt);
        }
      }
    }
    const busy = total - idle;
    const pct = (x: number) => Math.round((x / Math.max(busy, 1e-9)) * 1000) / 10;
    const fnSelf = new Map<string, number>();
    for (const [id, ms] of self) {
      const k = shortFn(byId.get(id)!);
      fnSelf.set(k, (fnSelf.get(k) ?? 0) + ms);
    }
    out.push({
      workload: w.workload,
      windowMs: Math.round((w.toUs - w.fromUs) / 1000),
      sampledMs: Math.round(total),
      busyPct: Math.round((busy / Math.max(total, 1e-9)) * 1000) / 10,
      topSelf: [...fnSelf.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([fn, ms]) => ({ fn, pct: pct(ms) })),
      byPackageInclusive: [...pkgIncl.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([pkg, ms]) => ({ pkg, pct: pct(ms) })),
      byPackageSelf: [...pkgSelf.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([pkg, ms]) => ({ pkg, pct: pct(ms) })),
    });
  }
  return out;
}

/** CLOCK_MONOTONIC in µs, the clock V8's profiler stamps samples with. */
export function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
