import { Client } from 'pg';
import { build as buildHistogram, type Histogram } from 'hdr-histogram-js';

/** Shared helpers: logging, timing, statistics, the admin database connection. */

export const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

const started = Date.now();

export function log(...parts: unknown[]): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[bench ${t}s]`, ...parts);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function dbUrl(name: string, base = ADMIN_URL): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, application_name: 'bench' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function median(values: number[]): number | null {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function round(x: number | null | undefined, digits = 2): number | null {
  if (x == null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A small deterministic PRNG (mulberry32), so pools are shuffled the same way each run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Latency recorder: an HDR histogram in microseconds (3 significant digits), reported in ms. */
export class Latencies {
  private readonly hist: Histogram = buildHistogram({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  private n = 0;
  record(ms: number): void {
    this.n++;
    this.hist.recordValue(Math.max(1, Math.round(ms * 1000)));
  }
  get count(): number {
    return this.n;
  }
  percentile(p: number): number | null {
    if (!this.n) return null;
    return this.hist.getValueAtPercentile(p) / 1000;
  }
  summary() {
    return {
      count: this.n,
      p50: round(this.percentile(50), 2),
      p90: round(this.percentile(90), 2),
      p99: round(this.percentile(99), 2),
      max: round(this.n ? this.hist.maxValue / 1000 : null, 2),
    };
  }
}
