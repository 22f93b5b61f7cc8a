import { Latencies, log, nowMs, sleep, withClient } from './common';
import { cpuWindow, type CpuWindow } from './procs';
import { HttpPoster } from './http-load';
import { MARK_SEEN, SEND_MESSAGE, SUB_MESSAGE_RECEIVED, SUB_MESSAGE_SEEN, body } from './operations';
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
  query: string;
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
  sampleError?: string;
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
}): Promise<{ result: OpenLoopResult; ackedIds: string[] }> {
  const total = Math.round(o.rate * o.seconds);
  const interval = 1000 / o.rate;
  const sentAt = new Map<number, number>();
  const receiverOf = new Map<number, string>();
  const acked = new Set<number>();
  const delivered = new Set<number>();
  const ackedIds: string[] = [];
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
        ackedIds.push(id);
        ackLat.record(nowMs() - t);
      } else {
        failed++;
        sampleError ??= String(typeof err === 'string' ? err : JSON.stringify(err ?? data)).slice(0, 500);
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
  };
  log(
    `${o.label}: ${o.via} ${o.rate}/s → sent ${sent} (skipped ${skipped}), acked ${acked.size}, delivered ${delivered.size}, lost ${lost}; ` +
      `delivery p50 ${result.delivery.p50} p99 ${result.delivery.p99} ms; ack p99 ${result.ack.p99} ms; ` +
      `cpu server ${cpu.server}% pg ${cpu.postgres}% loadgen ${cpu.loadgen}% others ${cpu.others}%${failed ? `; failed ${failed}: ${sampleError}` : ''}`,
  );
  return { result, ackedIds };
}

let runCounter = 0;

/** Chat delivery: pairs chat at `rate` messages/s in total; latency to the peer's messageReceived. */
export async function chatRun(o: {
  label: string;
  serverPid?: number;
  url: string;
  dbUrl?: string;
  pairs: ChatPair[];
  tokens: Map<string, string>;
  subscribers: RealtimeSockets;
  rate: number;
  seconds: number;
  via: 'http' | 'ws';
  drainMs: number;
}): Promise<OpenLoopResult> {
  const tag = `c${process.pid}x${++runCounter}`;
  const re = new RegExp(`^${tag}#(\\d+) `);
  const { result, ackedIds } = await openLoop({
    ...o,
    items: (k) => {
      const p = o.pairs[k % o.pairs.length];
      const forward = Math.floor(k / o.pairs.length) % 2 === 0;
      const sender = forward ? p.a : p.b;
      return { sender, receiver: forward ? p.b : p.a, conversationId: p.conversationId, token: o.tokens.get(sender)! };
    },
    mutation: (k, item) => ({
      query: SEND_MESSAGE,
      variables: { input: { conversationId: item.conversationId, text: `${tag}#${k} see you at 8? 🙂`, clientMessageId: `${tag}-${k}` } },
    }),
    match: (_receiver, data) => {
      const text = ((data.messageReceived as { message?: { text?: string } })?.message?.text ?? '') as string;
      const m = re.exec(text);
      return m ? Number(m[1]) : null;
    },
    ackId: (data) => ((data?.sendMessage as { id?: string } | undefined)?.id ?? null),
    maxInflight: Math.max(200, Math.round(o.rate / 2)),
  });
  result.pairs = o.pairs.length;
  // A snapshot: acknowledgements that arrive after the drain are not part of this run.
  const ackedNow = ackedIds.slice(0, result.acked);
  if (o.dbUrl && ackedNow.length) {
    // Every acknowledged message must be in PostgreSQL (synchronous_commit is on).
    await withClient(o.dbUrl, async (c) => {
      result.durableInDb = Number((await c.query(`SELECT count(*) AS n FROM messages WHERE id = ANY($1::uuid[])`, [ackedNow])).rows[0].n);
      // What a client that missed the live event gets back from events(after:).
      result.inEventLog = Number(
        (await c.query(`SELECT count(DISTINCT payload->>'messageId') AS n FROM events WHERE type = 'MESSAGE_RECEIVED' AND payload->>'messageId' = ANY($1::text[])`, [ackedNow])).rows[0].n,
      );
    });
  }
  return result;
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
export const SEEN_SUBSCRIPTION = SUB_MESSAGE_SEEN;
