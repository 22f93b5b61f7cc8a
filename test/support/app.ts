import { randomUUID } from 'node:crypto';
import { print, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { hash, Algorithm } from '@node-rs/argon2';
import { loadConfig, type Config } from '../../src/config';
import { createApp, type App } from '../../src/app';
import { AdjustableClock } from '../../src/lib/clock';
import { createLogger } from '../../src/lib/logger';
import { SqlCounter } from '../../src/db/database';
import { databaseUrl, withAdminClient } from './db';
import { until } from './until';

export type Doc<TData, TVars> = TypedDocumentNode<TData, TVars> | string;

export interface GqlResult<TData> {
  status: number;
  data?: TData | null;
  errors?: GraphQLFormattedError[];
}

export interface TestUser {
  id: string;
  username: string;
  token: string;
}

export interface UserOverrides {
  username?: string;
  displayName?: string;
  birthDate?: string;
  policy?: 'EVERYONE' | 'FOLLOWING' | 'NOBODY';
  verified?: boolean;
  role?: 'USER' | 'MODERATOR';
  /** How long ago the account was created (default: 30 days, older than NEW_ACCOUNT_HOURS). */
  ageHours?: number;
}

export interface TestApp {
  app: App;
  config: Config;
  clock: AdjustableClock;
  sql: SqlCounter;
  /** Runs SQL on this file's own database (setup and assertions only). */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  gql<TData, TVars>(doc: Doc<TData, TVars>, variables?: TVars, token?: string, headers?: Record<string, string>): Promise<GqlResult<TData>>;
  /** Like gql, but throws when the response has errors; returns data. */
  ok<TData, TVars>(doc: Doc<TData, TVars>, variables?: TVars, token?: string): Promise<TData>;
  makeUser(overrides?: UserOverrides): Promise<TestUser>;
  wsClient(token?: string | null, extra?: Partial<Parameters<typeof createClient>[0]>): WsClient;
  subscribe<TData, TVars>(doc: Doc<TData, TVars>, variables: TVars, token: string): Promise<Subscription<TData>>;
  close(): Promise<void>;
}

export interface Subscription<TData> {
  events: TData[];
  errors: unknown[];
  /** Resolves with the next event not yet taken (or rejects after `ms`). */
  next(ms?: number): Promise<TData>;
  /** Unsubscribes and closes the socket. */
  close(): Promise<void>;
}

let counter = 0;
const HASH = hash('correct horse battery', { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2 });
export const PASSWORD = 'correct horse battery';

/** A date of birth for someone `years` old (plus `days` more) today by `now`. */
export function birthDateForAge(years: number, now = new Date(), days = 0): string {
  const d = new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth(), now.getUTCDate() - days));
  return d.toISOString().slice(0, 10);
}

export interface TestAppOptions {
  /** Where the app's logs go (tests that read them); level from TEST_LOG_LEVEL or LOG_LEVEL. */
  logDestination?: { write(line: string): void };
  /**
   * Another PostgreSQL server's admin URL (e.g. one the test starts and stops itself, see
   * own-postgres.ts): the database is created there empty and createApp migrates it.
   */
  adminUrl?: string;
  /**
   * Use this existing database (e.g. another TestApp's `config.databaseUrl`) instead of a
   * fresh clone: two instances sharing one database. Nothing is created or dropped here;
   * close this app before the one that owns the database.
   */
  databaseUrl?: string;
}

export async function startTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const adminUrl = options.adminUrl ?? process.env.TEST_ADMIN_DATABASE_URL!;
  const template = process.env.TEST_TEMPLATE_DATABASE!;
  const dbName = `mr_t_${process.pid}_${Date.now().toString(36)}_${(counter++).toString(36)}`;
  if (!options.databaseUrl) await withAdminClient(adminUrl, async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(options.adminUrl ? `CREATE DATABASE ${dbName}` : `CREATE DATABASE ${dbName} TEMPLATE ${template}`);
        return;
      } catch (err) {
        // Two files cloning at the same instant can briefly see each other on the template.
        if (attempt > 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  const url = options.databaseUrl ?? databaseUrl(adminUrl, dbName);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: '.data/test',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    DATABASE_URL: url,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // The server shares its event loop with the test and with a busy CI machine: load
    // shedding on lag would refuse at random. test/e2e/overload.test.ts turns it on.
    OVERLOAD_LAG_MS: '0',
    ...env,
  });
  const clock = new AdjustableClock();
  const sql = new SqlCounter();
  const app = await createApp(config, { clock, sqlCounter: sql, logger: createLogger(config.logLevel, undefined, options.logDestination) });
  await app.listen(0, '127.0.0.1');
  const sockets: WsClient[] = [];

  const gql = async <TData, TVars>(doc: Doc<TData, TVars>, variables?: TVars, token?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: JSON.stringify({ query: typeof doc === 'string' ? doc : print(doc), variables }),
    });
    const body = (await res.json()) as ExecutionResult<TData>;
    return { status: res.status, data: body.data, errors: body.errors as GraphQLFormattedError[] | undefined };
  };

  const wsClient = (token?: string | null, extra: Partial<Parameters<typeof createClient>[0]> = {}) => {
    const client = createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: true,
      ...extra,
    });
    sockets.push(client);
    return client;
  };

  const t: TestApp = {
    app,
    config,
    clock,
    sql,
    query: async (text, params) => app.dataSource.query(text, params),
    gql,
    async ok(doc, variables, token) {
      const res = await gql(doc, variables, token);
      if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
      return res.data as never;
    },
    async makeUser(o = {}) {
      const n = `${(counter++).toString(36)}${randomUUID().slice(0, 6)}`;
      const username = o.username ?? `u_${n}`.slice(0, 24);
      const birthDate = o.birthDate ?? birthDateForAge(30, clock.now());
      const createdAt = new Date(clock.now().getTime() - (o.ageHours ?? 24 * 30) * 3600_000);
      const [row] = await app.dataSource.query(
        `INSERT INTO users (username, display_name, birth_date, password_hash, dm_policy, verified, role, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [username, o.displayName ?? `User ${n}`, birthDate, await HASH, o.policy ?? 'EVERYONE', o.verified ?? false, o.role ?? 'USER', createdAt],
      );
      const token = await app.services.auth.issueToken(row.id);
      // As a client that has used its token before: the instance has checked it against the
      // database (one statement per token per TOKEN_RECHECK_SECONDS), so statement counts
      // measure the operation, not that first check.
      await app.services.sessions.resolve(token);
      return { id: row.id, username, token };
    },
    wsClient,
    async subscribe(doc, variables, token) {
      const client = wsClient(token);
      const events: unknown[] = [];
      const errors: unknown[] = [];
      const waiters: Array<(v: unknown) => void> = [];
      let taken = 0;
      const before = app.services.events.listenerCount();
      const dispose = client.subscribe(
        { query: typeof doc === 'string' ? doc : print(doc), variables: variables as Record<string, unknown> },
        {
          next: (value) => {
            if (value.errors) errors.push(value.errors);
            else events.push(value.data);
            waiters.splice(0).forEach((w) => w(undefined));
          },
          error: (err) => {
            errors.push(err);
            waiters.splice(0).forEach((w) => w(undefined));
          },
          complete: () => undefined,
        },
      );
      // graphql-ws sends no "subscribed" acknowledgement: wait for the server's listener.
      await until('the subscription to start', () => app.services.events.listenerCount() > before || errors.length > 0);
      // A refused subscription would make every "nothing arrived" check pass for the wrong reason.
      if (errors.length) {
        dispose();
        await client.dispose();
        throw new Error(`subscription refused: ${JSON.stringify(errors)}`);
      }
      return {
        events: events as never[],
        errors,
        async next(ms = 5000) {
          const end = Date.now() + ms;
          while (events.length <= taken) {
            if (errors.length) throw new Error(`subscription error: ${JSON.stringify(errors)}`);
            const left = end - Date.now();
            if (left <= 0) throw new Error('no subscription event arrived');
            await new Promise<void>((r) => {
              const timer = setTimeout(r, left);
              waiters.push(() => {
                clearTimeout(timer);
                r();
              });
            });
          }
          return events[taken++] as never;
        },
        async close() {
          dispose();
          await client.dispose();
        },
      };
    },
    async close() {
      await Promise.all(sockets.map((s) => s.dispose()));
      await app.close();
      if (!options.databaseUrl) await withAdminClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch(() => undefined);
    },
  };
  return t;
}

/** The extensions.code of the first error, or undefined. */
export function codeOf(res: GqlResult<unknown>): string | undefined {
  return res.errors?.[0]?.extensions?.code as string | undefined;
}
