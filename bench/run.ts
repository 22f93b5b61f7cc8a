/**
 * `npm run bench` — issue 7. Seeds the data set, then per repetition: a fresh copy of it,
 * our server and the bare ceilings' server in their own processes, and every workload
 * driven from this process; the SQL ceilings replayed from the statements each operation
 * was captured issuing. Medians over the repetitions go to bench/results/<date>.json and
 * .md. `npm run bench -- --quick` is the two-minute smoke version.
 *
 * Options: --quick, --reps N, --scale S, --reuse-seed, --no-profile / --profile, --only a,b,c
 * (workload groups: hello, pages, requests, messages, seen, mixed, storms, chat),
 * --chat-rates 1000,2000,5000 (messages per second in total, for the chat runs),
 * --report bench/results/<date>.json (render the markdown again from a saved run).
 * BENCH_NODE_FLAGS='--max-semi-space-size=64' starts our server with those node flags (the
 * bare server keeps the defaults), to measure a tuning before a deployment sets it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AuthService } from '../src/modules/users/auth.service';
import { ADMIN_URL, dbUrl, log, round, sleep, withClient } from './lib/common';
import { runHttp, type HttpRunResult, type Req } from './lib/http-load';
import * as ops from './lib/operations';
import { loadPools, type Pools } from './lib/pools';
import { DIST, ROOT, cpuWindow, quiet, startServer, stopAll, type CpuWindow, type ServerProcess } from './lib/procs';
import { latestProfile, monoUs, summarise, type ProfileSummary } from './lib/profile';
import { applyDatabaseSettings, applyServerSettings, effectiveSettings, memberTableOptions, restoreServerSettings, DATABASE_SETTINGS, type PgSettingsRecord } from './lib/pg-settings';
import { chatRun, openSubscribers, seenRun, BADGE_SUBSCRIPTION, CHAT_SUBSCRIPTION, SEEN_SUBSCRIPTION, type OpenLoopResult } from './lib/realtime';
import { buildReport } from './lib/report';
import type { CaptureJob, CapturedOp, ReplayJob, ReplayResult } from './lib/replay-types';
import { cloneSeed, dropDatabase, ensureSeed, type SeedInfo } from './lib/seed';
import { closeSockets, gauge, storm, type StormResult } from './lib/ws';

const pexec = promisify(execFile);

// ---- settings --------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string): string | undefined => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].split('=').slice(1).join('=') : argv[i + 1];
};
const quick = flag('quick');

export interface Settings {
  quick: boolean;
  scale: number;
  reps: number;
  warmupS: number;
  maxS: number;
  halfS: number;
  replayS: number;
  connections: number;
  replayConnections: number;
  storms: [number, number];
  chatPairs: number;
  chatRates: number[];
  chatSeconds: number;
  drainMs: number;
  seenSeconds: number;
  mixedS: number;
  profile: boolean;
  only: string[] | null;
  /** For a focused A/B: which transports and which chat workloads (ours, ours+badge, bare). */
  chatVia: Array<'http' | 'ws'>;
  chatWorkloads: string[] | null;
  /** Node flags for our server's process (BENCH_NODE_FLAGS, the header comment). */
  ourNodeFlags: string[];
}

const S: Settings = {
  quick,
  scale: Number(opt('scale') ?? (quick ? 0.1 : 1)),
  reps: Number(opt('reps') ?? (quick ? 1 : 3)),
  warmupS: quick ? 0.5 : 2,
  maxS: quick ? 2 : 5,
  halfS: quick ? 1.5 : 4,
  replayS: quick ? 1.5 : 4,
  connections: 32,
  replayConnections: 16,
  storms: quick ? [1000, 2000] : [1000, 10000],
  chatPairs: 1000,
  // 2000: the capacity question between the 1k target and the 5k overload.
  chatRates: opt('chat-rates')?.split(',').map(Number) ?? (quick ? [1000] : [1000, 2000, 5000]),
  chatSeconds: quick ? 2 : 4,
  drainMs: quick ? 2500 : 8000,
  seenSeconds: quick ? 2 : 5,
  mixedS: quick ? 2 : 5,
  profile: flag('profile') || (!quick && !flag('no-profile')),
  only: opt('only')?.split(',') ?? null,
  chatVia: (opt('chat-via')?.split(',') as Array<'http' | 'ws'> | undefined) ?? ['http', 'ws'],
  chatWorkloads: opt('chat-workloads')?.split(',') ?? null,
  ourNodeFlags: process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [],
};
const wants = (group: string) => !S.only || S.only.includes(group);

const RUN_ID = `${process.pid}`;
const JWT_SECRET = randomBytes(32).toString('hex');
const TMP = mkdtempSync(path.join(os.tmpdir(), 'mr-bench-'));
const RESULTS = path.join(ROOT, 'bench', 'results');

function serverEnv(database: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: dbUrl(database),
    JWT_SECRET,
    LOG_LEVEL: 'warn',
    DATA_DIR: path.join(TMP, 'data'),
    // Generous limits: the bench measures the service, not its rate limiter's refusals.
    MESSAGE_RATE_PER_SECOND: '1000000',
    MESSAGE_RATE_BURST: '1000000',
    DAILY_MESSAGE_REQUEST_LIMIT: '1000000',
    // The send path's knobs pass through, to compare settings on the same host
    // (e.g. SEND_BATCHES_IN_FLIGHT=1 npm run bench -- --only chat).
    ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^(SEND_|INBOX_BADGE_|OVERLOAD_)/.test(e[0]) && e[1] !== undefined)),
  };
}

// ---- result shapes -----------------------------------------------------------------------------

export interface HttpWorkload {
  name: string;
  max: HttpRunResult;
  half: HttpRunResult | null;
  cpu: CpuWindow;
  replay?: ReplayResult;
  /** Throughput of each slice when a workload alternates with its ceiling. */
  slices?: number[];
}

export interface RepResult {
  rep: number;
  http: Record<string, HttpWorkload>;
  storms: Record<string, StormResult>;
  memory: Record<string, { subscribers: number; rssPerSubscriberKb: number | null; heapPerSubscriberKb: number | null }>;
  seen: Record<string, OpenLoopResult | number>;
  chat: Record<string, OpenLoopResult>;
  mixed: Record<string, HttpWorkload>;
  serverErrors?: { count: number; first: string[] };
}

// ---- helpers -----------------------------------------------------------------------------------

let serverSettings: Pick<PgSettingsRecord, 'server' | 'serverSkipped'> = { server: [] };
/** The settings as the first copy's sessions saw them, for the result. */
let pgSettings: PgSettingsRecord | null = null;

/** A fresh copy of the seed with the per-database settings on it (before any server connects). */
async function freshCopy(seed: SeedInfo, database: string): Promise<void> {
  await cloneSeed(seed.database, database);
  await applyDatabaseSettings(database);
  if (!pgSettings) {
    pgSettings = { ...serverSettings, database: DATABASE_SETTINGS, effective: await effectiveSettings(dbUrl(database)), conversationMembers: await memberTableOptions(dbUrl(database)) };
    log(`pg settings in effect: ${JSON.stringify(pgSettings.effective)}; conversation_members ${JSON.stringify(pgSettings.conversationMembers)}`);
  }
}

async function runNode(script: string, args: string[], timeoutMs = 300_000): Promise<void> {
  await pexec(process.execPath, [path.join(DIST, 'bench', script), ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

async function replay(op: CapturedOp | undefined, inputs: Array<Record<string, string>>, cycle: boolean, database: string): Promise<ReplayResult | undefined> {
  if (!op || !inputs.length) return undefined;
  const job: ReplayJob = { url: dbUrl(database), op, inputs, cycle, connections: S.replayConnections, seconds: S.replayS };
  const jf = path.join(TMP, `replay-${op.name}.json`);
  const of = path.join(TMP, `replay-${op.name}.out.json`);
  writeFileSync(jf, JSON.stringify(job));
  await runNode('replay.js', [jf, of]);
  const r = JSON.parse(readFileSync(of, 'utf8')) as ReplayResult;
  log(`replay ${op.name}: ${r.ops} ops/s on ${r.connections} connections (${r.statementsPerOp} statements each), errors ${r.errors}${r.sampleError ? ` — ${r.sampleError}` : ''}`);
  return r;
}

async function httpWorkload(name: string, server: ServerProcess, next: () => Req | null, o: { half?: boolean; seconds?: number; warmup?: boolean } = {}): Promise<HttpWorkload> {
  await quiet(server.pid);
  if (o.warmup !== false) await runHttp({ url: server.url, connections: S.connections, seconds: S.warmupS, next });
  const end = cpuWindow(server.pid);
  const max = await runHttp({ url: server.url, connections: S.connections, seconds: o.seconds ?? S.maxS, next });
  const cpu = end();
  let half: HttpRunResult | null = null;
  if (o.half !== false && max.rps > 0) {
    await sleep(300);
    half = await runHttp({ url: server.url, connections: S.connections, seconds: S.halfS, rate: max.rps * 0.5, next });
  }
  const errs = max.errors + max.non2xx + max.gqlErrors;
  log(
    `${name}: max ${max.rps}/s (p99 ${max.latency.p99} ms), at 50 %: p50 ${half?.latency.p50} p99 ${half?.latency.p99} ms; ` +
      `cpu server ${cpu.server}% pg ${cpu.postgres}% loadgen ${cpu.loadgen}% others ${cpu.others}%${errs ? `; ERRORS ${errs}: ${max.sampleError}` : ''}${max.exhausted ? ' (inputs exhausted)' : ''}`,
  );
  return { name, max, half, cpu };
}

const tokenCache = new Map<string, string>();
async function mintTokens(ids: string[]): Promise<Map<string, string>> {
  const auth = new AuthService(JWT_SECRET, 24 * 3600); // seconds: the run must outlive its tokens
  for (const id of ids) if (!tokenCache.has(id)) tokenCache.set(id, await auth.issueToken(id));
  return tokenCache;
}

const TEXT = 'Hi! Loved your last video, the transition at the end was so smooth. How did you film it?';

// ---- capture -------------------------------------------------------------------------------------

async function capture(database: string, pools: Pools): Promise<{ ops: Record<string, CapturedOp>; delivery: Record<string, unknown> }> {
  const pair = pools.takePair()!;
  const warmPair = pools.takePair()!;
  const pend = pools.takePending()!;
  const warmPend = pools.takePending()!;
  const send = pools.takeSend()!;
  const warmSend = pools.takeSend()!;
  const unread = pools.takeUnread()!;
  const warmUnread = pools.takeUnread()!;
  const deliverSend = pools.takeSend()!;
  const deliverSeen = pools.takeUnread()!;
  const viewer = pools.inboxViewers[0];
  const cap = `cap-${RUN_ID}`;
  const job: CaptureJob = {
    env: serverEnv(database),
    ops: [
      { name: 'hello', query: ops.HELLO_OURS, userId: viewer, inputs: {}, warmup: { userId: viewer } },
      {
        name: 'sendMessageRequest',
        query: ops.SEND_REQUEST,
        userId: pair.sender,
        variables: { input: { recipientId: pair.recipient, text: TEXT, clientMessageId: `${cap}-r` } },
        inputs: { sender: pair.sender, recipient: pair.recipient, clientMessageId: `${cap}-r` },
        warmup: { userId: warmPair.sender, variables: { input: { recipientId: warmPair.recipient, text: TEXT, clientMessageId: `${cap}-rw` } } },
      },
      {
        name: 'acceptMessageRequest',
        query: ops.ACCEPT_REQUEST,
        userId: pend.recipient,
        variables: { id: pend.id },
        inputs: { request: pend.id, recipient: pend.recipient },
        warmup: { userId: warmPend.recipient, variables: { id: warmPend.id } },
      },
      ...[10, 50].map((first) => ({
        name: `messageRequests${first}`,
        query: ops.REQUESTS_PAGE,
        userId: pools.hot,
        variables: { first },
        inputs: { viewer: pools.hot },
        warmup: { userId: pools.hot, variables: { first } },
      })),
      ...[10, 50].map((first) => ({
        name: `conversations${first}`,
        query: ops.INBOX_PAGE,
        userId: viewer,
        variables: { first },
        inputs: { viewer },
        warmup: { userId: pools.inboxViewers[1] ?? viewer, variables: { first } },
      })),
      {
        name: 'sendMessage',
        query: ops.SEND_MESSAGE,
        userId: send.sender,
        variables: { input: { conversationId: send.conversationId, text: TEXT, clientMessageId: `${cap}-m` } },
        // The other participant is an input too: learnt from the conversation row, it would
        // follow the captured low/high order and could turn out to be the sender.
        inputs: { conversation: send.conversationId, sender: send.sender, recipient: send.recipient, clientMessageId: `${cap}-m` },
        warmup: { userId: warmSend.sender, variables: { input: { conversationId: warmSend.conversationId, text: TEXT, clientMessageId: `${cap}-mw` } } },
      },
      {
        name: 'markConversationSeen',
        query: ops.MARK_SEEN,
        userId: unread.reader,
        variables: { conversationId: unread.conversationId },
        inputs: { conversation: unread.conversationId, reader: unread.reader, peer: unread.peer },
        warmup: { userId: warmUnread.reader, variables: { conversationId: warmUnread.conversationId } },
      },
    ],
    deliveries: [
      {
        name: 'sendMessage → messageReceived to both participants',
        subscription: ops.SUB_MESSAGE_RECEIVED,
        subscribers: [deliverSend.sender, deliverSend.recipient],
        query: ops.SEND_MESSAGE,
        variables: { input: { conversationId: deliverSend.conversationId, text: TEXT, clientMessageId: `${cap}-d` } },
        userId: deliverSend.sender,
        expectEvents: 2,
      },
      {
        name: 'markConversationSeen → messageSeen to the peer',
        subscription: ops.SUB_MESSAGE_SEEN,
        subscribers: [deliverSeen.peer],
        query: ops.MARK_SEEN,
        variables: { conversationId: deliverSeen.conversationId },
        userId: deliverSeen.reader,
        expectEvents: 1,
      },
    ],
  };
  const jf = path.join(TMP, 'capture.json');
  const of = path.join(TMP, 'capture.out.json');
  writeFileSync(jf, JSON.stringify(job));
  await runNode('capture.js', [jf, of], 120_000);
  const out = JSON.parse(readFileSync(of, 'utf8')) as { ops: CapturedOp[]; delivery: Record<string, unknown> };
  const byName: Record<string, CapturedOp> = {};
  for (const o of out.ops) {
    byName[o.name] = o;
    log(`capture ${o.name}: ${o.statements.length} statements on the wire (TypeORM counted ${o.typeormCount}), ${o.ms} ms${o.ok ? '' : ` — ERROR ${o.response}`}`);
  }
  for (const [name, d] of Object.entries(out.delivery)) log(`capture delivery "${name}":`, JSON.stringify({ ...(d as object), texts: undefined }));
  return { ops: byName, delivery: out.delivery };
}

// ---- one repetition --------------------------------------------------------------------------------

async function repetition(rep: number, seed: SeedInfo, captured: { ops: Record<string, CapturedOp> } | null): Promise<{ result: RepResult; captured: { ops: Record<string, CapturedOp>; delivery: Record<string, unknown> } | null }> {
  const database = `mr_bench_run_${RUN_ID}`;
  log(`=== repetition ${rep}/${S.reps}: fresh copy of ${seed.database}`);
  await freshCopy(seed, database);
  const pools = await loadPools(dbUrl(database), 7 + rep, S.chatPairs);
  const tokens = await mintTokens(pools.userIds);
  const tok = (id: string) => tokens.get(id)!;
  const convFile = path.join(TMP, 'conversations.json');
  writeFileSync(convFile, JSON.stringify(pools.openConversations));

  let cap = captured as { ops: Record<string, CapturedOp>; delivery: Record<string, unknown> } | null;
  if (!cap) cap = await capture(database, pools);
  const C = cap.ops;

  const bare = await startServer({ name: 'bare apollo + graphql-ws', script: path.join(DIST, 'bench', 'baseline-server.js'), env: { NODE_ENV: 'production', BENCH_CONVERSATIONS_FILE: convFile } });
  const ours = await startServer({ name: 'our server', script: path.join(DIST, 'src', 'index.js'), env: serverEnv(database), nodeFlags: S.ourNodeFlags });
  const r: RepResult = { rep, http: {}, storms: {}, memory: {}, seen: {}, chat: {}, mixed: {} };
  const n = () => S.replayS * 4000;

  try {
    // ---- { hello } -------------------------------------------------------------------------
    if (wants('hello')) {
      // Bare and ours alternate in slices, so a neighbour's load shifts both alike.
      const hb = ops.body(ops.HELLO_BARE);
      const ho = ops.body(ops.HELLO_OURS);
      const viewer = pools.inboxViewers[0];
      const slices = 2;
      const parts: Record<string, HttpWorkload[]> = { helloBare: [], hello: [], helloAnonymous: [] };
      for (let i = 0; i < slices; i++) {
        parts.helloBare.push(await httpWorkload('bare Apollo { hello }', bare, () => ({ body: hb }), { half: i === slices - 1, seconds: S.maxS / slices, warmup: i === 0 }));
        parts.hello.push(await httpWorkload('our { __typename } (with token)', ours, () => ({ body: ho, token: tok(viewer) }), { half: i === slices - 1, seconds: S.maxS / slices, warmup: i === 0 }));
        parts.helloAnonymous.push(await httpWorkload('our { __typename } (anonymous)', ours, () => ({ body: ho }), { half: false, seconds: S.maxS / slices, warmup: i === 0 }));
      }
      for (const [k, ws] of Object.entries(parts)) r.http[k] = mergeSlices(ws);
    }

    // ---- pages -------------------------------------------------------------------------------
    if (wants('pages')) {
      for (const first of [10, 50]) {
        const b = ops.body(ops.REQUESTS_PAGE, { first });
        const w = await httpWorkload(`messageRequests(first: ${first}) for the hot account`, ours, () => ({ body: b, token: tok(pools.hot) }));
        w.replay = await replay(C[`messageRequests${first}`], [{ viewer: pools.hot }], true, database);
        r.http[`messageRequests${first}`] = w;
      }
      for (const first of [10, 50]) {
        const b = ops.body(ops.INBOX_PAGE, { first });
        let i = 0;
        const viewers = pools.inboxViewers;
        const w = await httpWorkload(`conversations(first: ${first})`, ours, () => ({ body: b, token: tok(viewers[i++ % viewers.length]) }));
        w.replay = await replay(C[`conversations${first}`], viewers.map((v) => ({ viewer: v })), true, database);
        r.http[`conversations${first}`] = w;
      }
    }

    // ---- message requests ----------------------------------------------------------------------
    if (wants('requests')) {
      let k = 0;
      const w = await httpWorkload('sendMessageRequest', ours, () => {
        const p = pools.takePair();
        return p ? { body: ops.body(ops.SEND_REQUEST, { input: { recipientId: p.recipient, text: TEXT, clientMessageId: `r${RUN_ID}-${rep}-${k++}` } }), token: tok(p.sender) } : null;
      });
      const inputs = Array.from({ length: n() }, (_, i) => pools.takePair()).filter(Boolean).map((p, i) => ({ sender: p!.sender, recipient: p!.recipient, clientMessageId: `rr${RUN_ID}-${rep}-${i}` }));
      w.replay = await replay(C.sendMessageRequest, inputs, false, database);
      r.http.sendMessageRequest = w;

      const a = await httpWorkload('acceptMessageRequest', ours, () => {
        const p = pools.takePending();
        return p ? { body: ops.body(ops.ACCEPT_REQUEST, { id: p.id }), token: tok(p.recipient) } : null;
      });
      const acc: Array<Record<string, string>> = [];
      for (let p = pools.takePending(); p && acc.length < n(); p = pools.takePending()) acc.push({ request: p.id, recipient: p.recipient });
      a.replay = await replay(C.acceptMessageRequest, acc, false, database);
      r.http.acceptMessageRequest = a;
    }

    // ---- messages ------------------------------------------------------------------------------
    if (wants('messages')) {
      let k = 0;
      const w = await httpWorkload('sendMessage', ours, () => {
        const s = pools.takeSend();
        return s ? { body: ops.body(ops.SEND_MESSAGE, { input: { conversationId: s.conversationId, text: TEXT, clientMessageId: `m${RUN_ID}-${rep}-${k++}` } }), token: tok(s.sender) } : null;
      });
      const inputs: Array<Record<string, string>> = [];
      for (let i = 0; i < n(); i++) {
        const s = pools.takeSend();
        if (!s) break;
        inputs.push({ conversation: s.conversationId, sender: s.sender, recipient: s.recipient, clientMessageId: `mr${RUN_ID}-${rep}-${i}` });
      }
      w.replay = await replay(C.sendMessage, inputs, false, database);
      r.http.sendMessage = w;
    }

    // ---- seen receipts -----------------------------------------------------------------------
    if (wants('seen')) {
      // Receipts for the delivery run are set aside first: spread over up to 1000 peers.
      const reserved = pools.unreadByPeer(1000, Math.min(6000, Math.floor(pools.unreadLeft() / 4)));
      const inputs: Array<Record<string, string>> = [];
      const forReplay = Math.min(n(), Math.floor(pools.unreadLeft() / 3));
      for (let u = pools.takeUnread(); u && inputs.length < forReplay; u = inputs.length + 1 < forReplay ? pools.takeUnread() : null) inputs.push({ conversation: u.conversationId, reader: u.reader, peer: u.peer });
      const w = await httpWorkload('markConversationSeen (pointer moves, receipt emitted)', ours, () => {
        const u = pools.takeUnread();
        return u ? { body: ops.body(ops.MARK_SEEN, { conversationId: u.conversationId }), token: tok(u.reader) } : null;
      });
      w.replay = await replay(C.markConversationSeen, inputs, false, database);
      r.http.markConversationSeen = w;

      const rate = Math.max(10, Math.round(w.max.rps * 0.25));
      r.seen.rate = rate;
      const peers = [...new Set(reserved.items.slice(0, Math.round(rate * S.seenSeconds)).map((i) => i.peer))];
      for (const [label, server] of [['ours', ours], ['bare', bare]] as const) {
        const subs = await openSubscribers({ wsUrl: server.wsUrl, base: server.base, users: peers, tokens, query: SEEN_SUBSCRIPTION, timeoutMs: 30_000 });
        await sleep(500);
        await quiet(server.pid);
        r.seen[label] = await seenRun({ serverPid: server.pid, label: `seen receipts (${label})`, url: server.url, items: reserved.items, tokens, subscribers: subs, rate, seconds: S.seenSeconds, drainMs: S.drainMs });
        await closeSockets([...subs.sockets.values()]);
        await sleep(500);
      }
    }

    // ---- mixed workload, without and with 10k idle subscribers; connection storms ---------------
    const mixedNext = (): Req | null => {
      const x = Math.random() * 100;
      if (x < 30) {
        const v = pools.userIds[Math.floor(Math.random() * pools.userIds.length)];
        return { body: ops.body(ops.INBOX_PAGE, { first: 20 }), token: tok(v) };
      }
      if (x < 40) {
        const v = pools.folderViewers[Math.floor(Math.random() * pools.folderViewers.length)] ?? pools.hot;
        return { body: ops.body(ops.REQUESTS_PAGE, { first: 20 }), token: tok(v) };
      }
      if (x < 50) {
        const o = pools.randomOpen();
        return { body: ops.body(MESSAGES_PAGE, { id: o.conversationId }), token: tok(o.viewer) };
      }
      if (x < 80) {
        const s = pools.takeSend();
        if (s) return { body: ops.body(ops.SEND_MESSAGE, { input: { conversationId: s.conversationId, text: TEXT, clientMessageId: `x${RUN_ID}-${Math.random()}` } }), token: tok(s.sender) };
      }
      if (x < 95) {
        const u = pools.takeUnread() ?? (() => {
          const o = pools.randomOpen();
          return { conversationId: o.conversationId, reader: o.viewer };
        })();
        return { body: ops.body(ops.MARK_SEEN, { conversationId: u.conversationId }), token: tok(u.reader) };
      }
      if (x < 98) {
        const p = pools.takePair();
        if (p) return { body: ops.body(ops.SEND_REQUEST, { input: { recipientId: p.recipient, text: TEXT } }), token: tok(p.sender) };
      }
      const p = pools.takePending();
      if (p) return { body: ops.body(ops.ACCEPT_REQUEST, { id: p.id }), token: tok(p.recipient) };
      const v = pools.userIds[Math.floor(Math.random() * pools.userIds.length)];
      return { body: ops.body(ops.INBOX_PAGE, { first: 20 }), token: tok(v) };
    };
    if (wants('mixed')) r.mixed.noSubscribers = await httpWorkload('mixed (no subscribers)', ours, mixedNext, { half: false, seconds: S.mixedS });

    if (wants('storms') || wants('mixed')) {
      const users = (count: number, offset: number) => Array.from({ length: count }, (_, i) => pools.userIds[(offset + i) % pools.userIds.length]);
      for (const [label, server] of [['ours', ours], ['bare', bare]] as const) {
        const small = await storm({ wsUrl: server.wsUrl, base: server.base, users: users(S.storms[0], 0).map((id) => ({ id, token: tok(id) })), query: ops.SUB_IDLE, timeoutMs: 30_000 });
        r.storms[`${label}${S.storms[0]}`] = small.result;
        log(`storm ${label} ${S.storms[0]}: ${JSON.stringify(small.result)}`);
        await closeSockets(small.sockets);
        await waitSocketsClosed(server);

        const before = await server.memory();
        const big = await storm({ wsUrl: server.wsUrl, base: server.base, users: users(S.storms[1], 17).map((id) => ({ id, token: tok(id) })), query: ops.SUB_IDLE, timeoutMs: 60_000 });
        r.storms[`${label}${S.storms[1]}`] = big.result;
        log(`storm ${label} ${S.storms[1]}: ${JSON.stringify(big.result)}`);
        // Sockets closed before subscribing: what the server printed says why (a hook that
        // threw closes with 4500, and graphql-ws prints the error).
        if (big.result.failed > 0 || big.result.seconds == null) log(`storm ${label} ${S.storms[1]}: the server's last output:\n${server.output().slice(-6000)}`);
        await sleep(1000);
        const after = await server.memory();
        if (before && after) {
          const subs = Math.max(1, big.result.subscribed || big.result.sockets);
          r.memory[label] = {
            subscribers: subs,
            rssPerSubscriberKb: round((after.rss - before.rss) / subs / 1024, 1),
            heapPerSubscriberKb: round((after.heapUsed + after.external - before.heapUsed - before.external) / subs / 1024, 1),
          };
          log(`memory ${label}: ${JSON.stringify(r.memory[label])}`);
        }
        if (label === 'ours' && wants('mixed')) {
          r.mixed.idleSubscribers = await httpWorkload(`mixed with ${S.storms[1]} idle subscribers`, ours, mixedNext, { seconds: S.mixedS });
        }
        await closeSockets(big.sockets);
        await waitSocketsClosed(server);
      }
    }

    // ---- chat delivery ----------------------------------------------------------------------------
    if (wants('chat') && pools.chatPairs.length) {
      const pairs = pools.chatPairs;
      const people = pairs.flatMap((p) => [p.a, p.b]);
      // The same pairs and rates three ways: ours; ours with every client also on
      // inboxBadgeChanged, as the product's client keeps it open; the bare ceiling.
      const workloads = [
        { label: 'ours', server: ours, query: CHAT_SUBSCRIPTION as string | string[] },
        { label: 'ours+badge', server: ours, query: [CHAT_SUBSCRIPTION, BADGE_SUBSCRIPTION] },
        { label: 'bare', server: bare, query: CHAT_SUBSCRIPTION },
      ].filter((w) => !S.chatWorkloads || S.chatWorkloads.includes(w.label));
      for (const { label, server, query } of workloads) {
        const badge = Array.isArray(query);
        const subs = await openSubscribers({ wsUrl: server.wsUrl, base: server.base, users: people, tokens, query, timeoutMs: 60_000 });
        log(`chat ${label}: ${pairs.length} pairs online (${subs.storm.seconds}s to subscribe)`);
        await sleep(500);
        for (const rate of S.chatRates) {
          for (const via of S.chatVia) {
            await quiet(server.pid, 30_000);
            r.chat[`${label}-${via}-${rate}`] = await chatRun({
              serverPid: server.pid,
              label: `chat ${label} ${pairs.length} pairs`,
              url: server.url,
              base: server.base,
              dbUrl: server === ours ? dbUrl(database) : undefined,
              pairs,
              tokens,
              subscribers: subs,
              rate,
              seconds: S.chatSeconds,
              via,
              drainMs: S.drainMs,
              badge,
            });
            await sleep(1000);
          }
        }
        await closeSockets([...subs.sockets.values()]);
        await waitSocketsClosed(server);
      }
    }
  } finally {
    // What the server itself logged as errors (pino level ≥ 50), for the notes.
    const errors = ours.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
    if (errors.length) {
      r.serverErrors = { count: errors.length, first: errors.slice(0, 3).map((l) => l.slice(0, 1000)) };
      log(`our server logged ${errors.length} error lines; first: ${errors[0].slice(0, 600)}`);
    }
    await ours.stop();
    await bare.stop();
    await dropDatabase(database);
  }
  return { result: r, captured: cap };
}

/** Slices of one workload as one: summed throughput, the last slice's 50 % run, mean CPU. */
function mergeSlices(ws: HttpWorkload[]): HttpWorkload {
  const requests = ws.reduce((a, w) => a + w.max.requests, 0);
  const seconds = ws.reduce((a, w) => a + w.max.seconds, 0);
  const last = ws[ws.length - 1];
  const avg = (f: (w: HttpWorkload) => number | null) => round(ws.reduce((a, w) => a + (f(w) ?? 0), 0) / ws.length, 1);
  return {
    name: last.name,
    max: { ...last.max, requests, seconds, rps: round(requests / seconds, 1) ?? 0, errors: ws.reduce((a, w) => a + w.max.errors, 0), non2xx: ws.reduce((a, w) => a + w.max.non2xx, 0), gqlErrors: ws.reduce((a, w) => a + w.max.gqlErrors, 0) },
    half: ws.map((w) => w.half).filter(Boolean).pop() ?? null,
    cpu: { server: avg((w) => w.cpu.server), postgres: avg((w) => w.cpu.postgres) ?? 0, loadgen: avg((w) => w.cpu.loadgen) ?? 0, machine: avg((w) => w.cpu.machine) ?? 0, others: avg((w) => w.cpu.others) ?? 0 },
    slices: ws.map((w) => w.max.rps),
  };
}

const MESSAGES_PAGE = `query History($id: ID!) {
  messages(conversationId: $id, last: 20) { pageInfo { hasPreviousPage startCursor } edges { node { id text createdAt status sender { id } } } }
}`;

async function waitSocketsClosed(server: ServerProcess): Promise<void> {
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    const n = await gauge(server.base, 'graphql_ws_sockets_active');
    if (n === null || n === 0) return;
    await sleep(100);
  }
}

// ---- the profile pass -----------------------------------------------------------------------------

async function profilePass(seed: SeedInfo): Promise<{ file: string | null; summaries: ProfileSummary[] }> {
  const database = `mr_bench_run_${RUN_ID}`;
  log('=== profile pass: our server under node --cpu-prof during the slow workloads');
  await freshCopy(seed, database);
  const pools = await loadPools(dbUrl(database), 99, S.chatPairs);
  const tokens = await mintTokens(pools.userIds);
  const dir = path.join(RESULTS, 'profiles', stamp);
  const ours = await startServer({ name: 'our server (profiled)', script: path.join(DIST, 'src', 'index.js'), env: serverEnv(database), cpuProfDir: dir, nodeFlags: S.ourNodeFlags });
  const windows: Array<{ workload: string; fromUs: number; toUs: number }> = [];
  const windowed = async (workload: string, fn: () => Promise<unknown>) => {
    const fromUs = monoUs();
    await fn();
    windows.push({ workload, fromUs, toUs: monoUs() });
  };
  try {
    let k = 0;
    await runHttp({ url: ours.url, connections: S.connections, seconds: 2, next: () => ({ body: ops.body(ops.HELLO_OURS), token: tokens.get(pools.hot) }) });
    await windowed('{ __typename } closed loop', () => runHttp({ url: ours.url, connections: S.connections, seconds: 5, next: () => ({ body: ops.body(ops.HELLO_OURS), token: tokens.get(pools.hot) }) }));
    await windowed('sendMessage closed loop', () =>
      runHttp({
        url: ours.url,
        connections: S.connections,
        seconds: 6,
        next: () => {
          const s = pools.takeSend();
          return s ? { body: ops.body(ops.SEND_MESSAGE, { input: { conversationId: s.conversationId, text: TEXT, clientMessageId: `p${RUN_ID}-${k++}` } }), token: tokens.get(s.sender) } : null;
        },
      }),
    );
    await windowed('sendMessageRequest closed loop', () =>
      runHttp({
        url: ours.url,
        connections: S.connections,
        seconds: 6,
        next: () => {
          const p = pools.takePair();
          return p ? { body: ops.body(ops.SEND_REQUEST, { input: { recipientId: p.recipient, text: TEXT } }), token: tokens.get(p.sender) } : null;
        },
      }),
    );
    const people = pools.chatPairs.flatMap((p) => [p.a, p.b]);
    const subs = await openSubscribers({ wsUrl: ours.wsUrl, base: ours.base, users: people, tokens, query: CHAT_SUBSCRIPTION, timeoutMs: 60_000 });
    await sleep(500);
    await windowed(`chat ${S.chatRates[0]} msg/s over graphql-ws (send + deliver)`, () =>
      chatRun({ label: 'profiled chat', url: ours.url, pairs: pools.chatPairs, tokens, subscribers: subs, rate: S.chatRates[0], seconds: 6, via: 'ws', drainMs: 5000 }),
    );
    await closeSockets([...subs.sockets.values()]);
  } finally {
    await ours.stop();
    await dropDatabase(database);
  }
  const file = latestProfile(dir);
  if (!file) return { file: null, summaries: [] };
  const summaries = summarise(file, windows);
  for (const s of summaries) {
    log(`profile "${s.workload}": busy ${s.busyPct}%; by package: ${s.byPackageInclusive.slice(0, 8).map((p) => `${p.pkg} ${p.pct}%`).join(', ')}`);
  }
  return { file: path.relative(ROOT, file), summaries };
}

// ---- main -------------------------------------------------------------------------------------------

const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');

async function machineInfo() {
  const pg = await withClient(ADMIN_URL, async (c) => {
    const q = async (s: string) => (await c.query(s)).rows[0];
    return {
      version: (await q('SHOW server_version')).server_version,
      synchronous_commit: (await q('SHOW synchronous_commit')).synchronous_commit,
      fsync: (await q('SHOW fsync')).fsync,
      shared_buffers: (await q('SHOW shared_buffers')).shared_buffers,
      max_connections: (await q('SHOW max_connections')).max_connections,
    };
  });
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, postgres: pg, loadavgAtStart: os.loadavg() };
}

/** `--report results.json`: renders the markdown again from a saved run. */
function rerender(file: string): void {
  const j = JSON.parse(readFileSync(file, 'utf8'));
  const ops: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(j.sql ?? {}) as Array<[string, { onTheWire: number; typeorm: number; ok: boolean; statements: string[] }]>) {
    ops[k] = { name: k, statements: v.statements.slice(0, v.onTheWire).map((text) => ({ text })), typeormCount: v.typeorm, ok: v.ok };
  }
  const report = buildReport({ settings: j.settings, machine: j.machine, seed: j.seed, reps: j.reps, captured: { ops: ops as Record<string, CapturedOp>, delivery: j.delivery ?? {} }, profile: j.profile, seconds: j.runSeconds });
  writeFileSync(file.replace(/\.json$/, '.md'), report.markdown);
  console.log(report.markdown);
}

// One client socket the server reset (ECONNRESET during a 10000-socket storm) must not end
// a 20-minute run: graphql-ws rejects with the socket's ErrorEvent. Logged, not fatal;
// anything else still is.
process.on('unhandledRejection', (reason) => {
  const socketError = reason !== null && typeof reason === 'object' && (reason as { constructor?: { name?: string } }).constructor?.name === 'ErrorEvent';
  if (!socketError) throw reason;
  log(`a load-generator socket failed: ${(reason as { message?: string }).message ?? 'ErrorEvent'}`);
});

async function main() {
  if (opt('report')) return rerender(opt('report')!);
  const t0 = Date.now();
  log(`settings: ${JSON.stringify(S)}`);
  serverSettings = await applyServerSettings();
  const machine = await machineInfo();
  const seed = await ensureSeed(S.scale, !flag('reuse-seed'));
  const reps: RepResult[] = [];
  let captured: { ops: Record<string, CapturedOp>; delivery: Record<string, unknown> } | null = null;
  for (let rep = 1; rep <= S.reps; rep++) {
    const { result, captured: cap } = await repetition(rep, seed, captured);
    captured = cap;
    reps.push(result);
  }
  let profile: { file: string | null; summaries: ProfileSummary[] } | null = null;
  if (S.profile) profile = await profilePass(seed);

  mkdirSync(RESULTS, { recursive: true });
  const report = buildReport({ settings: S, machine: { ...machine, pgSettings }, seed, reps, captured, profile, seconds: Math.round((Date.now() - t0) / 1000) });
  const base = path.join(RESULTS, `${stamp}${S.quick ? '-quick' : ''}`);
  writeFileSync(`${base}.json`, JSON.stringify(report.json, null, 1));
  writeFileSync(`${base}.md`, report.markdown);
  console.log('\n' + report.markdown);
  log(`results: ${path.relative(ROOT, base)}.json and .md (${Math.round((Date.now() - t0) / 1000)} s in all)`);
}

let cleaning = false;
async function cleanup(code: number) {
  if (cleaning) return;
  cleaning = true;
  await stopAll();
  await restoreServerSettings();
  await dropDatabase(`mr_bench_run_${RUN_ID}`);
  rmSync(TMP, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => void cleanup(130));
process.on('SIGTERM', () => void cleanup(143));

main().then(
  () => cleanup(0),
  (err) => {
    console.error(err);
    void cleanup(1);
  },
);


