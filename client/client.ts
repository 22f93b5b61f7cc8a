/**
 * A small typed client for the message-requests API.
 *
 *   const client = new MessagingClient('http://localhost:4000/graphql');
 *   const { signUp } = await client.request(ClientSignUpDocument, { input: { … } });
 *   client.setToken(signUp.token);
 *   const live = client.subscribe(ClientOnMessageRequestReceivedDocument);
 *   const event = await live.next();            // typed as the subscription's data
 *
 * Queries and mutations go over HTTP POST with `Authorization: Bearer <token>`;
 * subscriptions over graphql-ws (the `ws` package in Node) on the same URL, with the token
 * in `connectionParams.authorization`. The documents and their types are generated from
 * client/operations/*.graphql into client/generated/graphql.ts by `npm run codegen`.
 */
import { print, type GraphQLFormattedError } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';

export * from './generated/graphql';

/** The response carried GraphQL errors; `code` is the first error's `extensions.code`. */
export class GraphQLRequestError extends Error {
  constructor(
    readonly errors: readonly GraphQLFormattedError[],
    readonly status: number,
  ) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${status}`);
    this.name = 'GraphQLRequestError';
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code as string | undefined;
  }

  get extensions(): Record<string, unknown> {
    return (this.errors[0]?.extensions as Record<string, unknown> | undefined) ?? {};
  }
}

/** ws://… or wss://… for an http(s) GraphQL URL: the server takes both on one path. */
export function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** A running subscription: events are queued until taken with next(). */
export interface LiveSubscription<TData> {
  /** Every event received so far, in order. */
  readonly events: readonly TData[];
  /** The next event not taken yet; rejects after `timeoutMs` or on a subscription error. */
  next(timeoutMs?: number): Promise<TData>;
  /** Stop this subscription (the socket stays open for the others). */
  close(): void;
}

export class MessagingClient {
  private socket: WsClient | null = null;
  private connected: Promise<void> | null = null;

  constructor(
    readonly url: string,
    private token: string | null = null,
  ) {}

  /** Use a new token (after sign-up or log-in). Closes an open socket: it was authenticated with the old one. */
  setToken(token: string | null): void {
    if (token === this.token) return;
    this.token = token;
    void this.close();
  }

  /** A query or mutation over HTTP. Throws GraphQLRequestError when the response has errors. */
  async request<TData, TVars extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVars>, variables?: TVars): Promise<TData> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: JSON.stringify({ query: print(document), variables: variables ?? {} }),
    });
    let body: { data?: TData | null; errors?: GraphQLFormattedError[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new GraphQLRequestError([{ message: `HTTP ${res.status} ${res.statusText}: not a GraphQL response` }], res.status);
    }
    if (body.errors?.length) throw new GraphQLRequestError(body.errors, res.status);
    if (!body.data) throw new GraphQLRequestError([{ message: `HTTP ${res.status}: no data` }], res.status);
    return body.data;
  }

  /**
   * Opens the WebSocket (if not open) and waits for the server's connection_ack, so a
   * bad token fails here (the server closes with 4403 Forbidden).
   */
  connect(): Promise<void> {
    if (this.connected) return this.connected;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    this.connected = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.connected.catch(() => undefined);
    this.socket = createClient({
      url: webSocketUrl(this.url),
      webSocketImpl: WebSocket,
      connectionParams: this.token ? { authorization: `Bearer ${this.token}` } : {},
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: (err) => reject(describeSocketError(err)),
      on: {
        connected: () => resolve(),
        closed: (event) => reject(describeSocketError(event)),
      },
    });
    return this.connected;
  }

  /** Starts a subscription on the shared socket (opened on first use). */
  subscribe<TData, TVars extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVars>, variables?: TVars): LiveSubscription<TData> {
    void this.connect();
    const socket = this.socket!;
    const events: TData[] = [];
    let failure: unknown = null;
    let taken = 0;
    const waiters = new Set<() => void>();
    const wake = () => waiters.forEach((w) => w());
    const dispose = socket.subscribe<TData>(
      { query: print(document), variables: variables ?? {} },
      {
        next: (result) => {
          if (result.errors?.length) failure = new GraphQLRequestError(result.errors as GraphQLFormattedError[], 0);
          else if (result.data) events.push(result.data);
          wake();
        },
        error: (err) => {
          failure = describeSocketError(err);
          wake();
        },
        complete: () => wake(),
      },
    );
    return {
      events,
      async next(timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        while (events.length <= taken) {
          if (failure) throw failure;
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`No subscription event within ${timeoutMs} ms`);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, left);
            function done() {
              clearTimeout(timer);
              waiters.delete(done);
              resolve();
            }
            waiters.add(done);
          });
        }
        return events[taken++];
      },
      close: () => dispose(),
    };
  }

  /** Closes the WebSocket, ending its subscriptions. */
  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    this.connected = null;
    if (socket) await socket.dispose();
  }
}

function describeSocketError(err: unknown): Error {
  if (err instanceof Error) return err;
  const close = err as { code?: number; reason?: string } | null;
  if (close && typeof close.code === 'number') {
    return new Error(`WebSocket closed: ${close.code}${close.reason ? ` ${close.reason}` : ''}`);
  }
  if (Array.isArray(err)) return new GraphQLRequestError(err as GraphQLFormattedError[], 0);
  return new Error(String(err));
}
