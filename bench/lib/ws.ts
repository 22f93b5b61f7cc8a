import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { log, nowMs, sleep } from './common';
import { BARRIER } from './operations';

export interface Socket {
  userId: string;
  client: Client;
  connected: boolean;
  /** Disposers of the subscriptions opened on this socket. */
  unsubscribes: Array<() => void>;
}

export function openSocket(wsUrl: string, userId: string, token: string, onClosed?: (code: number, reason: string) => void): Socket {
  const s: Socket = { userId, client: null as unknown as Client, connected: false, unsubscribes: [] };
  s.client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    retryAttempts: 0,
    keepAlive: 0,
    shouldRetry: () => false,
    on: {
      connected: () => {
        s.connected = true;
      },
      closed: (e) => {
        s.connected = false;
        const event = e as { code?: number; reason?: string } | undefined;
        onClosed?.(event?.code ?? 0, event?.reason ?? '');
      },
    },
    onNonLazyError: () => undefined,
  });
  return s;
}

export function subscribe(s: Socket, query: string, onData: (data: Record<string, unknown>) => void, onError?: (e: unknown) => void): void {
  const dispose = s.client.subscribe(
    { query },
    {
      next: (v) => {
        if (v.errors) onError?.(v.errors);
        else if (v.data) onData(v.data as Record<string, unknown>);
      },
      error: (e) => onError?.(e),
      complete: () => undefined,
    },
  );
  s.unsubscribes.push(dispose);
}

/** One query or mutation over the socket; resolves with its result. */
export function execute(s: Socket, query: string, variables?: Record<string, unknown>): Promise<{ data?: Record<string, unknown> | null; errors?: unknown }> {
  return new Promise((resolve) => {
    let result: { data?: Record<string, unknown> | null; errors?: unknown } = {};
    s.client.subscribe(
      { query, variables },
      {
        next: (v) => {
          result = v as typeof result;
        },
        error: (e) => resolve({ errors: e }),
        complete: () => resolve(result),
      },
    );
  });
}

export async function closeSockets(sockets: Socket[]): Promise<void> {
  await Promise.all(
    sockets.map(async (s) => {
      for (const u of s.unsubscribes) u();
      // A socket the server already reset rejects its dispose: it is closed either way.
      await Promise.resolve(s.client.dispose()).catch(() => undefined);
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
