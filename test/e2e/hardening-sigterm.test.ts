import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import WebSocket from 'ws';
import { print } from 'graphql';
import { Client } from 'pg';
import { ensureBuilt, ROOT } from '../support/build';
import { databaseUrl, withAdminClient } from '../support/db';
import { birthDateForAge, PASSWORD } from '../support/app';
import { OnInboxBadgeChangedDocument, SignUpDocument, UpdateProfileDocument } from '../generated/graphql';
import { until } from '../support/until';

/**
 * The built server (node dist/src/index.js) stops cleanly on SIGTERM: a request in flight
 * is answered, open WebSockets are closed with 1001 Going Away (so clients reconnect
 * elsewhere) and the process exits 0.
 */
const adminUrl = process.env.TEST_ADMIN_DATABASE_URL!;
const dbName = `mr_sigterm_${process.pid}_${Date.now().toString(36)}`;
let server: ChildProcessWithoutNullStreams | null = null;

/** ensureBuilt() looks at src/index.ts only; what this test checks lives in src/app.ts too. */
function newestSource(dir = path.join(ROOT, 'src')): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newestSource(path.join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(path.join(dir, e.name)).mtimeMs : 0,
    ),
  );
}

beforeAll(async () => {
  ensureBuilt();
  if (statSync(path.join(ROOT, 'dist/src/index.js')).mtimeMs < newestSource()) {
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    } catch {
      // tsc still emits when someone else's file has a type error; run what was built.
    }
  }
  await withAdminClient(adminUrl, async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE ${dbName} TEMPLATE ${process.env.TEST_TEMPLATE_DATABASE}`);
        return;
      } catch (err) {
        // Another file cloning the template at the same instant: try again shortly.
        if (attempt > 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
});
afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  await withAdminClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch(() => undefined);
});

interface LogLine {
  msg?: string;
  url?: string;
  level?: number;
}

/** Starts the built server on a kernel-chosen port; resolves with its URL once it logs that it is ready. */
async function startServer(): Promise<{ child: ChildProcessWithoutNullStreams; url: string; logs: LogLine[]; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/index.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      DATABASE_URL: databaseUrl(adminUrl, dbName),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: 'pipe',
  });
  server = child;
  const logs: LogLine[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as LogLine;
        logs.push(entry);
        if (entry.msg?.startsWith('GraphQL ready at') && entry.url) resolve(entry.url);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before it was ready: ${stderr}`)));
  });
  return { child, url, logs, exited };
}

it('SIGTERM answers the request in flight, closes open WebSockets with 1001 and exits 0', async () => {
  const { child, url, logs, exited } = await startServer();

  const signUp = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: print(SignUpDocument),
      variables: { input: { username: `sig_${Date.now().toString(36)}`, password: PASSWORD, displayName: 'Sig', birthDate: birthDateForAge(30) } },
    }),
  });
  const { token, user } = ((await signUp.json()) as { data: { signUp: { token: string; user: { id: string } } } }).data.signUp;

  // A subscribed client, as a phone on the Messages tab would be.
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const acked = new Promise((resolve) => socket.once('message', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  expect(JSON.parse(String(await acked)).type).toBe('connection_ack');
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: print(OnInboxBadgeChangedDocument) } }));
  // The server's own count says the subscription is live.
  const metricsUrl = url.replace(/\/graphql$/, '/metrics');
  await until('the subscription to be active', async () => /^graphql_subscriptions_active 1$/m.test(await (await fetch(metricsUrl)).text()));

  // A mutation in flight: the test holds the user's row lock, so the server's UPDATE waits.
  const db = new Client({ connectionString: databaseUrl(adminUrl, dbName) });
  db.on('error', () => undefined);
  await db.connect();
  await db.query('BEGIN');
  await db.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [user.id]);
  const inFlight = fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(UpdateProfileDocument), variables: { input: { displayName: 'Drained' } } }),
  });
  await until('the server to wait on the lock', async () => {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND a.datname = current_database()`);
    return rows[0].n > 0;
  });

  const signalled = Date.now();
  child.kill('SIGTERM');
  const { code, reason } = await closed;
  expect(code).toBe(1001);
  expect(reason).toMatch(/shutting down/i);
  // Still draining: the process waits for the request it is serving.
  expect(child.exitCode).toBeNull();
  await db.query('COMMIT');
  await db.end();
  const answer = await inFlight;
  expect(answer.status).toBe(200);
  expect(((await answer.json()) as { data: { updateProfile: { displayName: string } } }).data.updateProfile.displayName).toBe('Drained');
  expect(await exited).toBe(0);
  const tookMs = Date.now() - signalled;
  // Nothing in flight: well under Apollo's 10 s drain grace (a second SIGTERM handler once made it wait all of it).
  expect(tookMs).toBeLessThan(5000);
  expect(logs.some((l) => l.msg === 'shutting down')).toBe(true);
  // Nothing was logged as an error on the way out.
  expect(logs.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
});
