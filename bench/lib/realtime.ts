import { Latencies, log, nowMs, round, sleep, withClient } from './common';
import { cpuWindow, type CpuWindow } from './procs';
import { HttpPoster } from './http-load';
import { ChatLedger, type Ack, type IntegrityCheck } from './chat-checks';
import { openWindow, vacuumChatTables, type VacuumCost, type WindowCost } from './chat-window';
import { MARK_SEEN, SEND_MESSAGE, SUB_INBOX_BADGE, SUB_MESSAGE_RECEIVED, SUB_MESSAGE_SEEN, body } from './operations';
import { execute, storm, type Socket, type StormResult } from './ws';

/**
 * Open-loop realtime workloads: messages (or seen receipts) sent on a fixed schedule,
 * spread evenly (1 ms timer granularity), each latency measured from the moment its
 * mutation is sent to the moment the peer's socket receives the event, in this process.
 */

export interface ChatPair {
  conversationId: string;
  a: string;
  b: string;
}

type Handler = (receiver: string, data: Record<string, unknown>) => void;

export interface RealtimeSockets {
  sockets: Map<string, Socket>;
  setHandler(h: Handler | null): void;
  storm: StormResult;
}

export async function openSubscribers(o: {
  wsUrl: string;
  base: string;
  users: string[];
  tokens: Map<string, string>;
  query: string | string[];
  timeoutMs: number;
}): Promise<RealtimeSockets> {
  let handler: Handler | null = null;
  const { result, sockets } = await storm({
    wsUrl: o.wsUrl,
    base: o.base,
    users: o.users.map((id) => ({ id, token: o.tokens.get(id)! })),
    query: o.query,
    timeoutMs: o.timeoutMs,
    onData: (s, d) => handler?.(s.userId, d),
  });
  return { sockets: new Map(sockets.map((s) => [s.userId, s])), setHandler: (h) => (handler = h), storm: result };
}

export interface OpenLoopResult {
  via: 'http' | 'ws';
  /** Conversations (pairs) or receipts the run spread its load over. */
  pairs?: number;
  targetRate: number;
  /** Messages whose mutation was sent. */
  sent: number;
  /** Sent per second over the schedule. */
  achievedRate: number;
  acked: number;
  failed: number;
  /** Not sent because too many were already in flight (the server could not keep up). */
  skipped: number;
  delivered: number;
  /** Acknowledged but not delivered to the peer's socket within the drain time (late or lost). */
  lost: number;
  /** Of the acknowledged messages, how many are in the recipient's event log (recoverable by events(after:)). */
  inEventLog?: number | null;
  cpu?: CpuWindow;
  delivery: ReturnType<Latencies['summary']>;
  ack: ReturnType<Latencies['summary']>;
  /** How late the generator sent against its schedule (p99, ms): large means the load generator was the limit. */
  scheduleLagP99: number | null;
  saturated: boolean;
  durableInDb?: number | null;
  /**
   * Acknowledged messages per distinct created_at: a batch stamps its rows with one time,
   * so this is about the sends per batch (two batches in one millisecond count as one).
   */
  sendsPerBatch?: number | null;
  sampleError?: string;
  /** Which chat workload: subscribed to messageReceived only, or also to inboxBadgeChanged. */
  workload?: 'chat' | 'chat+badge';
  /**
   * Failed sends by kind: clean sheds (RATE_LIMITED / SERVICE_UNAVAILABLE with a numeric
   * extensions.retryAfter: the client knows when to retry), internal (INTERNAL_SERVER_ERROR,
   * an error without a code, a transport failure, an answer without an id), other codes.
   */
  failures?: { shed: number; internal: number; other: number; codes: Record<string, number>; sampleInternal?: string };
  /** From the first send to the last acknowledgement (s). */
  ackSpanSeconds?: number;
  /** Acknowledged and found in PostgreSQL, per second of ackSpanSeconds. */
  durableRate?: number | null;
  /** The chat window, from the first send until everything is acknowledged and delivered (or the drain ends). */
  window?: WindowCost;
  /**
   * window per message sent: CPU (ms) and WAL (bytes, full-page images); vacuumMs is
   * PostgreSQL's CPU for the vacuum of the window's own garbage, after it (vacuum.after).
   */
  perMessage?: { serverMs: number | null; serverWrites?: number | null; postgresMs: number | null; vacuumMs?: number | null; walBytes: number | null; walFpi: number | null };
  /** The chat tables' vacuum before the window (what earlier workloads left) and after it (this run's). */
  vacuum?: { before: VacuumCost | null; after: VacuumCost | null };
  integrity?: IntegrityCheck;
  /** inboxBadgeChanged updates the receivers got during the window (chat+badge). */
  badgeUpdates?: number;
}

type FailureKind = 'shed' | 'internal' | 'other';
const SHED_CODES = new Set(['RATE_LIMITED', 'SERVICE_UNAVAILABLE']);

/** What a failed send was: see OpenLoopResult.failures. */
export function classifyFailure(err: unknown): { kind: FailureKind; code: string } {
  if (Array.isArray(err) && err.length) {
    const exts = err.map((e) => ((e as { extensions?: Record<string, unknown> })?.extensions ?? {}) as { code?: string; retryAfter?: unknown });
    const code = exts.map((x) => x.code ?? 'NO_CODE').join('+');
    if (exts.every((x) => x.code && SHED_CODES.has(x.code) && typeof x.retryAfter === 'number' && Number.isFinite(x.retryAfter))) return { kind: 'shed', code };
    if (exts.some((x) => !x.code || x.code === 'INTERNAL_SERVER_ERROR')) return { kind: 'internal', code };
    // A shed without retryAfter is not clean: the client cannot tell when to come back.
    return { kind: 'other', code: exts.some((x) => x.code && SHED_CODES.has(x.code)) ? `${code} (no retryAfter)` : code };
  }
  return { kind: 'internal', code: err == null ? 'NO_ID' : 'TRANSPORT' };
}

interface Item {
  sender: string;
  receiver: string;
  conversationId: string;
  token: string;
}

async function openLoop(o: {
  label: string;
  serverPid?: number;
  rate: number;
  seconds: number;
  via: 'http' | 'ws';
  url: string;
  subscribers: RealtimeSockets;
  items: (k: number) => Item | null;
  mutation: (k: number, item: Item) => { query: string; variables: Record<string, unknown> };
  /** Which pending item an event completes, or null. */
  match: (receiver: string, data: Record<string, unknown>) => number | null;
  ackId: (data: Record<string, unknown> | null | undefined) => string | null;
  drainMs: number;
  maxInflight: number;
  /** Opens the cost window just before the first send; closed once drained. */
  window?: () => Promise<() => Promise<WindowCost>>;
}): Promise<{ result: OpenLoopResult; acks: Array<{ k: number; id: string }> }> {
  const total = Math.round(o.rate * o.seconds);
  const interval = 1000 / o.rate;
  const sentAt = new Map<number, number>();
  const receiverOf = new Map<number, string>();
  const acked = new Set<number>();
  const delivered = new Set<number>();
  const acks: Array<{ k: number; id: string }> = [];
  const failures = { shed: 0, internal: 0, other: 0, codes: {} as Record<string, number>, sampleInternal: undefined as string | undefined };
  let lastAckAt = 0;
  const deliveryLat = new Latencies();
  const ackLat = new Latencies();
  const lag = new Latencies();
  let inflight = 0;
  let failed = 0;
  let skipped = 0;
  let sent = 0;
  let sampleError: string | undefined;
  const poster = o.via === 'http' ? new HttpPoster(o.url, 512) : null;

  o.subscribers.setHandler((receiver, data) => {
    const k = o.match(receiver, data);
    if (k == null || delivered.has(k) || receiverOf.get(k) !== receiver) return;
    delivered.add(k);
    deliveryLat.record(nowMs() - sentAt.get(k)!);
  });

  const send = (k: number, scheduled: number) => {
    const item = o.items(k);
    if (!item) {
      skipped++;
      return;
    }
    if (inflight >= o.maxInflight) {
      skipped++;
      return;
    }
    const { query, variables } = o.mutation(k, item);
    const t = nowMs();
    lag.record(Math.max(0, t - scheduled));
    sentAt.set(k, t);
    receiverOf.set(k, item.receiver);
    inflight++;
    sent++;
    const done = (data: Record<string, unknown> | null | undefined, err?: unknown) => {
      inflight--;
      const id = err ? null : o.ackId(data);
      if (id) {
        acked.add(k);
        acks.push({ k, id });
        lastAckAt = nowMs();
        ackLat.record(lastAckAt - t);
      } else {
        failed++;
        const text = String(typeof err === 'string' ? err : JSON.stringify(err ?? data)).slice(0, 500);
        sampleError ??= text;
        const { kind, code } = classifyFailure(err);
        failures[kind]++;
        failures.codes[code] = (failures.codes[code] ?? 0) + 1;
        if (kind === 'internal') failures.sampleInternal ??= text;
      }
    };
    if (poster) {
      poster.post(body(query, variables), item.token).then(
        (res) => {
          try {
            const parsed = JSON.parse(res.body) as { data?: Record<string, unknown>; errors?: unknown };
            done(parsed.errors ? null : parsed.data, parsed.errors);
          } catch {
            done(null, `${res.status} ${res.body.slice(0, 200)}`);
          }
        },
        (err: Error) => done(null, err.message),
      );
    } else {
      const socket = o.subscribers.sockets.get(item.sender);
      if (!socket) return done(null, 'no socket for sender');
      execute(socket, query, variables).then(
        (r) => done(r.errors ? null : r.data, r.errors),
        (err: Error) => done(null, err.message),
      );
    }
  };

  const closeWindow = await o.window?.();
  const endCpu = cpuWindow(o.serverPid ?? null);
  const t0 = nowMs();
  let k = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (k < total && t0 + k * interval <= now) {
        send(k, t0 + k * interval);
        k++;
      }
      if (k >= total) return resolve();
      setTimeout(tick, Math.max(0, t0 + k * interval - nowMs()));
    };
    tick();
  });
  const sendSeconds = (nowMs() - t0) / 1000;
  const cpu = endCpu();
  const drainEnd = nowMs() + o.drainMs;
  while (nowMs() < drainEnd) {
    const pendingAcks = inflight;
    const undelivered = [...acked].filter((x) => !delivered.has(x)).length;
    if (pendingAcks === 0 && undelivered === 0) break;
    await sleep(20);
  }
  const window = await closeWindow?.();
  o.subscribers.setHandler(null);
  poster?.close();
  const lost = [...acked].filter((x) => !delivered.has(x)).length;
  const result: OpenLoopResult = {
    via: o.via,
    targetRate: o.rate,
    sent,
    achievedRate: Math.round(sent / sendSeconds),
    acked: acked.size,
    failed,
    skipped,
    delivered: delivered.size,
    lost,
    delivery: deliveryLat.summary(),
    ack: ackLat.summary(),
    scheduleLagP99: lag.percentile(99),
    saturated: skipped > 0 || lost > 0 || inflight > 0,
    sampleError,
    cpu,
    // A copy: sends still in flight after the drain fail later (the poster closes) and
    // belong to no run.
    failures: { ...failures, codes: { ...failures.codes } },
    ackSpanSeconds: acks.length ? round((lastAckAt - t0) / 1000, 3) ?? undefined : undefined,
    window,
  };
  log(
    `${o.label}: ${o.via} ${o.rate}/s → sent ${sent} (skipped ${skipped}), acked ${acked.size}, delivered ${delivered.size}, lost ${lost}; ` +
      `delivery p50 ${result.delivery.p50} p99 ${result.delivery.p99} ms; ack p99 ${result.ack.p99} ms; ` +
      `cpu server ${cpu.server}% pg ${cpu.postgres}% loadgen ${cpu.loadgen}% others ${cpu.others}%` +
      `${failed ? `; failed ${failed} (internal ${failures.internal}, shed ${failures.shed}, other ${failures.other}): ${sampleError}` : ''}`,
  );
  return { result, acks };
}

let runCounter = 0;

/**
 * Chat delivery: pairs chat at `rate` messages/s in total; latency to the peer's
 * messageReceived. On our server (dbUrl given) the run is then proven in PostgreSQL
 * (chat-checks.ts) and its window costed (chat-window.ts).
 */
export async function chatRun(o: {
  label: string;
  serverPid?: number;
  /** The server's base URL, for its /metrics (GC pauses). */
  base?: string;
  url: string;
  dbUrl?: string;
  pairs: ChatPair[];
  tokens: Map<string, string>;
  subscribers: RealtimeSockets;
  rate: number;
  seconds: number;
  via: 'http' | 'ws';
  drainMs: number;
  /** The subscribers also listen to inboxBadgeChanged (count its updates). */
  badge?: boolean;
}): Promise<OpenLoopResult> {
  const tag = `c${process.pid}x${++runCounter}`;
  const re = new RegExp(`^${tag}#(\\d+) `);
  const senderOf = new Map<number, string>();
  let badgeUpdates = 0;
  let counting = false;
  const vacuumBefore = o.dbUrl ? await vacuumChatTables(o.dbUrl) : null;
  const ledger = o.dbUrl ? await ChatLedger.open(o.dbUrl, o.pairs.flatMap((p) => [p.a, p.b]), o.pairs.map((p) => p.conversationId)) : null;
  try {
    const { result, acks } = await openLoop({
      ...o,
      items: (k) => {
        const p = o.pairs[k % o.pairs.length];
        const forward = Math.floor(k / o.pairs.length) % 2 === 0;
        const sender = forward ? p.a : p.b;
        senderOf.set(k, sender);
        return { sender, receiver: forward ? p.b : p.a, conversationId: p.conversationId, token: o.tokens.get(sender)! };
      },
      mutation: (k, item) => ({
        query: SEND_MESSAGE,
        variables: { input: { conversationId: item.conversationId, text: `${tag}#${k} see you at 8? 🙂`, clientMessageId: `${tag}-${k}` } },
      }),
      match: (_receiver, data) => {
        if (data.inboxBadgeChanged) {
          if (counting) badgeUpdates++;
          return null;
        }
        const text = ((data.messageReceived as { message?: { text?: string } })?.message?.text ?? '') as string;
        const m = re.exec(text);
        return m ? Number(m[1]) : null;
      },
      ackId: (data) => ((data?.sendMessage as { id?: string } | undefined)?.id ?? null),
      maxInflight: Math.max(200, Math.round(o.rate / 2)),
      window: async () => {
        const close = await openWindow({ serverPid: o.serverPid, base: o.base, dbUrl: o.dbUrl });
        counting = true;
        return async () => {
          counting = false;
          return close();
        };
      },
    });
    result.pairs = o.pairs.length;
    result.workload = o.badge ? 'chat+badge' : 'chat';
    if (o.badge) result.badgeUpdates = badgeUpdates;
    const w = result.window;
    if (w) {
      const per = (x: number | null) => (x == null || !result.sent ? null : round(x / result.sent, 3));
      result.perMessage = { serverMs: per(w.serverCpuMs), serverWrites: per(w.serverWrites), postgresMs: per(w.postgresCpuMs), walBytes: per(w.walBytes), walFpi: per(w.walFpi) };
    }
    // A snapshot: acknowledgements that arrive after the drain are not part of this run.
    const ackedNow = acks.slice(0, result.acked);
    if (o.dbUrl && ackedNow.length) {
      const ids = ackedNow.map((a) => a.id);
      // Every acknowledged message must be in PostgreSQL (synchronous_commit is on).
      await withClient(o.dbUrl, async (c) => {
        const stored = (await c.query(`SELECT count(*) AS n, count(DISTINCT created_at) AS times FROM messages WHERE id = ANY($1::uuid[])`, [ids])).rows[0];
        result.durableInDb = Number(stored.n);
        result.sendsPerBatch = Number(stored.times) ? round(Number(stored.n) / Number(stored.times), 2) : null;
        // What a client that missed the live event gets back from events(after:).
        result.inEventLog = Number(
          (await c.query(`SELECT count(DISTINCT payload->>'messageId') AS n FROM events WHERE type = 'MESSAGE_RECEIVED' AND payload->>'messageId' = ANY($1::text[])`, [ids])).rows[0].n,
        );
      });
      if (result.ackSpanSeconds) result.durableRate = Math.round(result.durableInDb! / result.ackSpanSeconds);
    }
    if (ledger) {
      const proof: Ack[] = ackedNow.map((a) => ({ clientMessageId: `${tag}-${a.k}`, senderId: senderOf.get(a.k)!, messageId: a.id }));
      result.integrity = await ledger.check(proof);
      const i = result.integrity;
      log(
        `${o.label}: ${i.ok ? 'checks passed' : 'CHECKS FAILED'}: ${i.accounts.checked} accounts (${i.accounts.events} events, ${i.accounts.bad} not contiguous, ${i.accounts.beyondCounter} beyond the counter), ` +
          `${i.conversations.checked} conversations (${i.conversations.messages} messages, ${i.conversations.bad} not contiguous), ` +
          `${i.clientMessageIds.exactlyOnce}/${i.clientMessageIds.acked} clientMessageIds exactly once${i.error ? `; check error: ${i.error}` : ''}` +
          `${i.ok ? '' : `; ${[...i.accounts.samples, ...i.conversations.samples, ...i.clientMessageIds.samples].join('; ')}`}`,
      );
    }
    if (o.dbUrl) {
      const after = await vacuumChatTables(o.dbUrl);
      result.vacuum = { before: vacuumBefore, after };
      if (result.perMessage) result.perMessage.vacuumMs = after && result.sent ? round(after.postgresCpuMs / result.sent, 3) : null;
      log(
        `${o.label}: vacuum before the window ${vacuumBefore ? `${vacuumBefore.ms} ms (${vacuumBefore.deadRows} dead rows)` : 'failed'}, ` +
          `after it ${after ? `${after.ms} ms (${after.deadRows} dead rows)${result.perMessage?.vacuumMs != null ? `, pg ${result.perMessage.vacuumMs} ms/msg` : ''}` : 'failed'}`,
      );
    }
    if (w) {
      log(
        `${o.label}: window ${w.seconds}s: cpu/msg server ${result.perMessage?.serverMs} ms, pg ${result.perMessage?.postgresMs} ms; server write calls/msg ${result.perMessage?.serverWrites}; ` +
          `WAL ${result.perMessage?.walBytes} B/msg (${result.perMessage?.walFpi} FPI/msg); checkpoints ${w.checkpoints} (${w.checkpointsRequested} requested, ${w.checkpointBuffers} buffers), backend writes ${w.backendBuffers}; ` +
          `GC ${w.gc ? `${w.gc.count} pauses, ${w.gc.ms} ms, ${w.gc.over10ms} over 10 ms` : '–'}` +
          `${o.badge ? `; badge updates ${badgeUpdates}` : ''}${result.durableRate != null ? `; durable ${result.durableRate} msg/s` : ''}${result.sendsPerBatch != null ? `; ~${result.sendsPerBatch} sends per batch` : ''}`,
      );
    }
    return result;
  } finally {
    await ledger?.close();
  }
}

/** Seen receipts: readers mark conversations seen at `rate`/s; latency to the peer's messageSeen. */
export async function seenRun(o: {
  label: string;
  serverPid?: number;
  url: string;
  items: Array<{ conversationId: string; reader: string; peer: string }>;
  tokens: Map<string, string>;
  subscribers: RealtimeSockets;
  rate: number;
  seconds: number;
  drainMs: number;
}): Promise<OpenLoopResult> {
  const index = new Map<string, number>();
  const { result } = await openLoop({
    ...o,
    via: 'http',
    items: (k) => {
      const it = o.items[k];
      if (!it) return null;
      index.set(`${it.conversationId}|${it.peer}`, k);
      return { sender: it.reader, receiver: it.peer, conversationId: it.conversationId, token: o.tokens.get(it.reader)! };
    },
    mutation: (_k, item) => ({ query: MARK_SEEN, variables: { conversationId: item.conversationId } }),
    match: (receiver, data) => {
      const cid = (data.messageSeen as { conversationId?: string } | undefined)?.conversationId;
      return cid ? (index.get(`${cid}|${receiver}`) ?? null) : null;
    },
    ackId: (data) => ((data?.markConversationSeen as { id?: string } | undefined)?.id ?? null),
    maxInflight: Math.max(200, Math.round(o.rate / 2)),
  });
  return result;
}

export const CHAT_SUBSCRIPTION = SUB_MESSAGE_RECEIVED;
/** What a real client keeps open beside the chat: the Messages tab's badge. */
export const BADGE_SUBSCRIPTION = SUB_INBOX_BADGE;
export const SEEN_SUBSCRIPTION = SUB_MESSAGE_SEEN;
