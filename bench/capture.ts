/**
 * Captures the exact SQL each measured operation issues: runs the real app in this
 * process (createApp, same config as the benchmarked server) with node-postgres'
 * Client#query wrapped, sends each operation once over HTTP, and records every statement
 * that reached PostgreSQL — text, parameters, prepared-statement name and result rows —
 * between the request and its answer. TypeORM's own count (SqlCounter, what the N+1
 * tests read) is recorded beside it; the pg-level count also sees BEGIN/COMMIT and the
 * rate limiter's statements, which bypass TypeORM.
 *
 * `node dist/bench/capture.js job.json out.json`
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { createApp } from '../src/app';
import { SqlCounter } from '../src/db/database';
import { createLogger } from '../src/lib/logger';
import type { CaptureJob, CapturedOp, CapturedStatement } from './lib/replay-types';

const log: CapturedStatement[] = [];
let recording = false;

function encode(v: unknown): unknown {
  if (v instanceof Date) return { $date: v.toISOString() };
  if (Array.isArray(v)) return v.map(encode);
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return { $buffer: v.toString('base64') };
  return v;
}

function encodeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? { $date: v.toISOString() } : typeof v === 'object' && v !== null && !Array.isArray(v) ? null : v;
  return out;
}

// ---- the wrap: every statement any pool client sends ----------------------------------------
const original = Client.prototype.query as (...args: unknown[]) => unknown;
(Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: Client, ...args: unknown[]) {
  if (!recording || typeof args[0] === 'object' && args[0] !== null && typeof (args[0] as { submit?: unknown }).submit === 'function') {
    return original.apply(this, args);
  }
  const first = args[0] as string | { text: string; values?: unknown[]; name?: string };
  const text = typeof first === 'string' ? first : first.text;
  const values = (typeof first === 'string' ? (Array.isArray(args[1]) ? args[1] : undefined) : first.values) ?? [];
  const name = typeof first === 'object' ? first.name : undefined;
  const sessionOptions = (this as unknown as { connectionParameters?: { options?: string } }).connectionParameters?.options ?? '';
  const asyncCommit = /synchronous_commit=off/.test(sessionOptions) || undefined;
  const entry: CapturedStatement = { text, values: values.map(encode), name, asyncCommit, rows: [], at: performance.now() };
  log.push(entry);
  const cbIndex = args.findIndex((a) => typeof a === 'function');
  const record = (res: unknown) => {
    const results = Array.isArray(res) ? res : [res];
    const last = results[results.length - 1] as { rows?: Array<Record<string, unknown>>; rowCount?: number } | undefined;
    entry.rows = (last?.rows ?? []).slice(0, 200).map(encodeRow);
    entry.rowCount = last?.rowCount ?? null;
  };
  if (cbIndex >= 0) {
    const cb = args[cbIndex] as (err: Error | null, res: unknown) => void;
    args[cbIndex] = (err: Error | null, res: unknown) => {
      if (err) entry.error = err.message;
      else record(res);
      cb(err, res);
    };
    return original.apply(this, args);
  }
  const p = original.apply(this, args) as Promise<unknown>;
  return p.then(
    (res) => {
      record(res);
      return res;
    },
    (err: Error) => {
      entry.error = err.message;
      throw err;
    },
  );
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const [jobFile, outFile] = process.argv.slice(2);
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as CaptureJob;
  // Batches on the app's own connections: only this thread's Client#query is wrapped, and
  // the batch thread runs the very same statements (send-batch-core.ts) where it cannot see them.
  const config = loadConfig({ ...job.env, SEND_BATCH_THREAD: 'false', LOG_LEVEL: 'silent' });
  const counter = new SqlCounter();
  const app = await createApp(config, { sqlCounter: counter, logger: createLogger('silent') });
  await app.listen(0, '127.0.0.1');
  await sleep(500); // start-up work (event-log pruning) settles before anything is recorded
  const tokens = new Map<string, string>();
  const token = async (userId: string) => {
    if (!tokens.has(userId)) tokens.set(userId, await app.services.auth.issueToken(userId));
    return tokens.get(userId)!;
  };
  const gql = async (query: string, variables: Record<string, unknown> | undefined, userId?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (userId) headers.authorization = `Bearer ${await token(userId)}`;
    const res = await fetch(app.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return res.text();
  };

  const ops: CapturedOp[] = [];
  for (const op of job.ops) {
    // Warm the code path once (first-call compilation, pool connections), on a spare input.
    if (op.warmup) await gql(op.query, op.warmup.variables, op.warmup.userId);
    log.length = 0;
    counter.reset();
    recording = true;
    const t0 = performance.now();
    const startedAt = Date.now();
    const response = await gql(op.query, op.variables, op.userId);
    const ms = performance.now() - t0;
    await sleep(100); // after-commit work, if any, is part of the operation
    recording = false;
    const statements = log.splice(0).map((s) => ({ ...s, at: Math.round((s.at - t0) * 1000) / 1000 }));
    ops.push({
      name: op.name,
      inputs: op.inputs,
      startedAt,
      ms: Math.round(ms * 100) / 100,
      response: response.slice(0, 2000),
      ok: !response.includes('"errors"'),
      statements,
      typeormCount: counter.count,
    });
  }

  // ---- what delivering one event costs: statements from the send to both sockets' events ----
  const delivery: Record<string, unknown> = {};
  for (const d of job.deliveries ?? []) {
    const events = app.services.events;
    const received: string[] = [];
    const clients = [];
    const before = events.listenerCount();
    for (const u of d.subscribers) {
      const c = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${await token(u)}` }, retryAttempts: 0, lazy: true });
      c.subscribe({ query: d.subscription }, { next: () => received.push(u), error: () => received.push(`error:${u}`), complete: () => undefined });
      clients.push(c);
    }
    const deadline = Date.now() + 5000;
    while (events.listenerCount() < before + d.subscribers.length && Date.now() < deadline) await sleep(5);
    await sleep(50);
    log.length = 0;
    counter.reset();
    recording = true;
    const response = await gql(d.query, d.variables, d.userId);
    const until = Date.now() + 5000;
    while (received.length < d.expectEvents && Date.now() < until) await sleep(5);
    await sleep(100);
    recording = false;
    const statements = log.splice(0);
    delivery[d.name] = {
      ok: !response.includes('"errors"') && received.length >= d.expectEvents,
      events: received.length,
      statements: statements.length,
      typeormCount: counter.count,
      texts: statements.map((s) => s.text.replace(/\s+/g, ' ').slice(0, 160)),
    };
    await Promise.all(clients.map((c) => c.dispose()));
  }

  writeFileSync(outFile, JSON.stringify({ ops, delivery }, null, 1));
  await app.close();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
