import WebSocket from 'ws';
import { log, nowMs, sleep } from './common';
import { BARRIER } from './operations';

/**
 * The load generator's side of the graphql-transport-ws protocol, on a bare `ws` socket.
 *
 * Why not graphql-ws's own client: the load generator shares the machine's cores with the
 * server and PostgreSQL, and at 5000 msg/s offered graphql-ws's client spent a fifth of its
 * busy time validating frames, making UUIDs and fanning events out, which is CPU taken from
 * the server being measured and event-loop lag added to every latency it records. This
 * speaks the same protocol (connection_init with the token, subscribe, next / error /
 * complete, ping → pong) with a counter for ids and one lookup per frame. The tests, and
 * the bench's statement capture, use graphql-ws's client as a real app does.
 */
interface Sink {
  next(payload: { data?: Record<string, unknown> | null; errors?: unknown }): void;
  error(e: unknown): void;
  complete(): void;
}

export interface Socket {
  userId: string;
  connected: boolean;
  /** Disposers of the subscriptions opened on this socket. */
  unsubscribes: Array<() => void>;
  ws: WebSocket;
  sinks: Map<string, Sink>;
  /** Frames written once the server acknowledges the connection. */
  pending: string[];
  nextId: number;
  closed: boolean;
}

export function openSocket(wsUrl: string, userId: string, token: string, onClosed?: (code: number, reason: string) => void): Socket {
  const ws = new WebSocket(wsUrl, 'graphql-transport-ws', { perMessageDeflate: false, skipUTF8Validation: true });
  const s: Socket = { userId, connected: false, unsubscribes: [], ws, sinks: new Map(), pending: [], nextId: 1, closed: false };
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  ws.on('message', (raw: Buffer) => {
    const m = JSON.parse(raw.toString()) as { type: string; id?: string; payload?: unknown };
    const sink = m.id === undefined ? undefined : s.sinks.get(m.id);
    switch (m.type) {
      case 'next':
        sink?.next(m.payload as Parameters<Sink['next']>[0]);
        break;
      case 'error':
        s.sinks.delete(m.id!);
        sink?.error(m.payload);
        break;
      case 'complete':
        s.sinks.delete(m.id!);
        sink?.complete();
        break;
      case 'connection_ack':
        s.connected = true;
        for (const frame of s.pending) ws.send(frame);
        s.pending = [];
        break;
      case 'ping':
        ws.send('{"type":"pong"}');
        break;
    }
  });
  // A socket that fails before its handshake emits 'error' then 'close' (1006): the close reports it.
  ws.on('error', () => undefined);
  ws.on('close', (code: number, reason: Buffer) => {
    s.connected = false;
    s.closed = true;
    const sinks = [...s.sinks.values()];
    s.sinks.clear();
    for (const sink of sinks) sink.error({ code, reason: reason.toString() });
    onClosed?.(code, reason.toString());
  });
  return s;
}

/** Sends a subscribe frame (held until the connection is acknowledged); returns its id. */
function start(s: Socket, payload: { query: string; variables?: Record<string, unknown> }, sink: Sink): string | null {
  if (s.closed) {
    sink.error({ code: 1006, reason: 'socket closed' });
    return null;
  }
  const id = String(s.nextId++);
  s.sinks.set(id, sink);
  const frame = JSON.stringify({ id, type: 'subscribe', payload });
  if (s.connected) s.ws.send(frame);
  else s.pending.push(frame);
  return id;
}

export function subscribe(s: Socket, query: string, onData: (data: Record<string, unknown>) => void, onError?: (e: unknown) => void): void {
  const id = start(s, { query }, {
    next: (v) => {
      if (v.errors) onError?.(v.errors);
      else if (v.data) onData(v.data);
    },
    error: (e) => onError?.(e),
    complete: () => undefined,
  });
  s.unsubscribes.push(() => {
    if (id === null || !s.sinks.delete(id) || !s.connected) return;
    s.ws.send(JSON.stringify({ id, type: 'complete' }));
  });
}

/** One query or mutation over the socket; resolves with its result. */
export function execute(s: Socket, query: string, variables?: Record<string, unknown>): Promise<{ data?: Record<string, unknown> | null; errors?: unknown }> {
  return new Promise((resolve) => {
    let result: { data?: Record<string, unknown> | null; errors?: unknown } = {};
    start(s, { query, variables }, {
      next: (v) => {
        result = v;
      },
      error: (e) => resolve({ errors: e }),
      complete: () => resolve(result),
    });
  });
}

export async function closeSockets(sockets: Socket[]): Promise<void> {
  await Promise.all(
    sockets.map((s) => {
      for (const u of s.unsubscribes) u();
      if (s.closed) return undefined;
      return new Promise<void>((resolve) => {
        s.ws.once('close', () => resolve());
        // Closing a socket still in its handshake aborts it: 'close' follows either way.
        s.ws.close(1000);
      });
    }),
  );
}

/** Reads a gauge from the server's Prometheus /metrics (null when the server has none). */
export async function gauge(base: string, name: string): Promise<number | null> {
  try {
    const res = await fetch(`${base}/metrics`);
    if (!res.ok) return null;
    const text = await res.text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.e+-]+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface StormResult {
  sockets: number;
  subscribed: number;
  /** From the first connect to the server reporting every subscription open. */
  seconds: number | null;
  /** When every socket had its connection_ack. */
  connectedSeconds: number | null;
  signal: 'metrics' | 'barrier';
  failed: number;
  closeCodes: Record<string, number>;
  /** The first close reason heard for each code (a 4500's says which hook threw, outside production). */
  closeReasons: Record<string, string>;
}

/**
 * N sockets connect and subscribe at once. "Subscribed" is a real signal: the server's
 * graphql_subscriptions_active gauge reaching base + N × subscriptions per socket (or, for
 * a server without /metrics, a query answered on each socket after its subscribes:
 * graphql-ws has no acknowledgement).
 */
export async function storm(o: {
  wsUrl: string;
  base: string;
  users: Array<{ id: string; token: string }>;
  /** One subscription per socket, or several on each (as a client with a badge and a chat open). */
  query: string | string[];
  timeoutMs: number;
  onData?: (s: Socket, data: Record<string, unknown>) => void;
}): Promise<{ result: StormResult; sockets: Socket[] }> {
  const queries = Array.isArray(o.query) ? o.query : [o.query];
  const before = await gauge(o.base, 'graphql_subscriptions_active');
  const signal: StormResult['signal'] = before == null ? 'barrier' : 'metrics';
  const closeCodes: Record<string, number> = {};
  const closeReasons: Record<string, string> = {};
  let failed = 0;
  const sockets: Socket[] = [];
  const barriers: Array<Promise<unknown>> = [];
  const t0 = nowMs();
  for (const u of o.users) {
    const s = openSocket(o.wsUrl, u.id, u.token, (code, reason) => {
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      closeReasons[code] ??= reason;
    });
    for (const query of queries) {
      subscribe(
        s,
        query,
        (d) => o.onData?.(s, d),
        () => failed++,
      );
    }
    if (signal === 'barrier') barriers.push(execute(s, BARRIER));
    sockets.push(s);
  }
  let connectedAt: number | null = null;
  let doneAt: number | null = null;
  const deadline = t0 + o.timeoutMs;
  let barrierDone = false;
  if (signal === 'barrier') void Promise.all(barriers).then(() => (barrierDone = true));
  while (nowMs() < deadline) {
    if (connectedAt == null && sockets.every((s) => s.connected)) connectedAt = nowMs();
    if (signal === 'metrics') {
      const n = await gauge(o.base, 'graphql_subscriptions_active');
      if (n != null && n - before! >= sockets.length * queries.length) {
        doneAt = nowMs();
        break;
      }
      await sleep(25);
    } else {
      if (barrierDone) {
        doneAt = nowMs();
        break;
      }
      await sleep(5);
    }
  }
  if (connectedAt == null && sockets.every((s) => s.connected)) connectedAt = nowMs();
  const after = await gauge(o.base, 'graphql_subscriptions_active');
  const subscribed = after != null && before != null ? after - before : doneAt ? sockets.length * queries.length : 0;
  const result: StormResult = {
    sockets: sockets.length,
    subscribed,
    seconds: doneAt ? Math.round(doneAt - t0) / 1000 : null,
    connectedSeconds: connectedAt ? Math.round(connectedAt - t0) / 1000 : null,
    signal,
    failed,
    closeCodes,
    closeReasons,
  };
  if (!doneAt) log(`storm: ${sockets.length} sockets not all subscribed within ${o.timeoutMs} ms`, result);
  return { result, sockets };
}
