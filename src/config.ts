import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { BatchSpacing } from './modules/messages/batch-spacing';

/**
 * The only reader of process.env. Every setting is typed and validated at start so a
 * typo fails loudly with the variable's name instead of misbehaving later.
 */
const intVar = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const boolVar = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: intVar(4000),
  HOST: z.string().default('0.0.0.0'),
  LISTEN_BACKLOG: intVar(4096, 1),
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  TOKEN_TTL_HOURS: intVar(24 * 7, 1),
  /** Overrides TOKEN_TTL_HOURS when set: short-lived tokens (tests, kiosks). */
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).optional(),
  TOKEN_RECHECK_SECONDS: intVar(30, 1),
  DATA_DIR: z.string().default('.data'),
  EMBEDDED_PG_PORT: intVar(54329, 1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DAILY_MESSAGE_REQUEST_LIMIT: intVar(20, 1),
  MESSAGE_REQUEST_TTL_DAYS: intVar(30, 1),
  NEW_ACCOUNT_HOURS: intVar(72, 0),
  REPORT_BAN_THRESHOLD: intVar(5, 1),
  EVENT_RETENTION_DAYS: intVar(30, 1),
  INBOX_BADGE_COALESCE_MS: intVar(250, 0),
  UNSEND_WINDOW_HOURS: intVar(24, 1),
  EDIT_WINDOW_MINUTES: intVar(15, 1),
  MAX_EDITS: intVar(5, 1),
  SEALED_TEXT_RETENTION_DAYS: intVar(30, 1),

  MAX_BODY_BYTES: intVar(100 * 1024, 1024),
  MAX_WS_FRAME_BYTES: intVar(64 * 1024, 1024),
  MAX_QUERY_DEPTH: intVar(10, 1),
  MAX_ALIASES: intVar(15, 1),
  MAX_TOKENS: intVar(1000, 10),
  MAX_COST: intVar(5000, 10),
  MAX_SUBSCRIPTIONS_PER_SOCKET: intVar(20, 1),
  WS_INIT_TIMEOUT_MS: intVar(3000, 100),
  OVERLOAD_LAG_MS: intVar(100, 0),
  MESSAGE_RATE_PER_SECOND: intVar(5, 1),
  MESSAGE_RATE_BURST: intVar(10, 1),
  LOGIN_FAILURES_PER_15_MIN: intVar(10, 1),
  HIDDEN_WORDS_MAX: intVar(200, 1),
  REPORT_RATE_PER_HOUR: intVar(10, 1),
  FOLLOW_RATE_PER_MINUTE: intVar(60, 1),
  BULK_IDS_PER_HOUR: intVar(300, 1),
  LOGIN_ATTEMPTS_PER_IP_PER_15_MIN: intVar(100, 1),
  SIGNUPS_PER_IP_PER_HOUR: intVar(20, 1),
  MAX_SOCKETS_PER_ACCOUNT: z.coerce.number().int().min(1).max(1000).default(10),
  SEND_BATCHING: boolVar(true),
  SEND_BATCH_MAX: intVar(128, 1),
  SEND_BATCH_THREAD: boolVar(true),
  // Batches on the app's connections only (SEND_BATCH_THREAD=false): the thread runs one at a time.
  SEND_BATCHES_IN_FLIGHT: intVar(3, 1),
  SEND_QUEUE_MAX_MS: intVar(300, 1),
  SEND_BATCH_HOLD_MS: intVar(4, 0),
  // On the batch thread: under load a batch starts no sooner than this many times the recent
  // batch time after the one before it started, and never later than SEND_BATCH_SPACING_MAX_MS.
  SEND_BATCH_SPACING: z.coerce.number().min(0).max(10).default(1.5),
  SEND_BATCH_SPACING_MAX_MS: intVar(20, 0),
  GRAPHIQL: boolVar(false),
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  /** Connections the kernel holds for accepting while the process is busy (capped by net.core.somaxconn). */
  listenBacklog: number;
  /** Undefined means: start the embedded PostgreSQL under dataDir. */
  databaseUrl?: string;
  redisUrl?: string;
  jwtSecret: string;
  tokenTtlHours: number;
  /** The lifetime actually used: TOKEN_TTL_SECONDS, else TOKEN_TTL_HOURS in seconds. */
  tokenTtlSeconds: number;
  /**
   * How long an instance trusts what it knows of a token (verified, not revoked) before
   * asking the database again: the bound on a revocation reaching an instance that missed
   * its broadcast (no Redis, or Redis down).
   */
  tokenRecheckSeconds: number;
  dataDir: string;
  embeddedPgPort: number;
  logLevel: Env['LOG_LEVEL'];
  requests: { dailyLimit: number; ttlDays: number; newAccountHours: number };
  moderation: { reportBanThreshold: number };
  /** badgeCoalesceMs: at most one inboxBadgeChanged per account per this window (0: one per event). */
  events: { retentionDays: number; badgeCoalesceMs: number };
  /** Group commit for sendMessage (messages/send-batcher.ts). */
  sendBatching: { enabled: boolean; thread: boolean; maxBatch: number; inFlight: number; maxQueueMs: number; holdMs: number; spacing: BatchSpacing };
  /** Unsend, edit and the moderators' sealed copies (issue 17). */
  messageActions: { unsendWindowHours: number; editWindowMinutes: number; maxEdits: number; sealedRetentionDays: number };
  limits: {
    maxBodyBytes: number;
    maxWsFrameBytes: number;
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxCost: number;
    maxSubscriptionsPerSocket: number;
    wsInitTimeoutMs: number;
    /** Operations other than subscriptions are refused while the event loop lags more than this (0: never). */
    overloadLagMs: number;
    messageRatePerSecond: number;
    messageRateBurst: number;
    loginFailuresPer15Min: number;
    /** Entries in one account's hidden words. */
    hiddenWordsMax: number;
    /** reportUser calls per account per hour. */
    reportsPerHour: number;
    /** follow + unfollow calls per account per minute. */
    followsPerMinute: number;
    /** Ids passed to acceptMessageRequests / deleteMessageRequests per account per hour. */
    bulkIdsPerHour: number;
    loginAttemptsPerIpPer15Min: number;
    signUpsPerIpPerHour: number;
    maxSocketsPerAccount: number;
  };
  /** Introspection, field suggestions and the IDE: off in production. */
  introspection: boolean;
  graphiql: boolean;
  /** When set, GET /metrics answers only `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.JWT_SECRET) {
    throw new ConfigError('Invalid configuration:\n  JWT_SECRET: required when NODE_ENV=production');
  }
  if (production && !e.DATABASE_URL) {
    throw new ConfigError('Invalid configuration:\n  DATABASE_URL: required when NODE_ENV=production');
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    listenBacklog: e.LISTEN_BACKLOG,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    jwtSecret: e.JWT_SECRET ?? persistedSecret(dataDir),
    tokenTtlHours: e.TOKEN_TTL_HOURS,
    tokenTtlSeconds: e.TOKEN_TTL_SECONDS ?? e.TOKEN_TTL_HOURS * 3600,
    tokenRecheckSeconds: e.TOKEN_RECHECK_SECONDS,
    dataDir,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    logLevel: e.LOG_LEVEL,
    requests: {
      dailyLimit: e.DAILY_MESSAGE_REQUEST_LIMIT,
      ttlDays: e.MESSAGE_REQUEST_TTL_DAYS,
      newAccountHours: e.NEW_ACCOUNT_HOURS,
    },
    moderation: { reportBanThreshold: e.REPORT_BAN_THRESHOLD },
    events: { retentionDays: e.EVENT_RETENTION_DAYS, badgeCoalesceMs: e.INBOX_BADGE_COALESCE_MS },
    sendBatching: { enabled: e.SEND_BATCHING, thread: e.SEND_BATCH_THREAD, maxBatch: e.SEND_BATCH_MAX, inFlight: e.SEND_BATCHES_IN_FLIGHT, maxQueueMs: e.SEND_QUEUE_MAX_MS, holdMs: e.SEND_BATCH_HOLD_MS, spacing: { factor: e.SEND_BATCH_SPACING, maxMs: e.SEND_BATCH_SPACING_MAX_MS } },
    messageActions: {
      unsendWindowHours: e.UNSEND_WINDOW_HOURS,
      editWindowMinutes: e.EDIT_WINDOW_MINUTES,
      maxEdits: e.MAX_EDITS,
      sealedRetentionDays: e.SEALED_TEXT_RETENTION_DAYS,
    },
    limits: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxWsFrameBytes: e.MAX_WS_FRAME_BYTES,
      maxDepth: e.MAX_QUERY_DEPTH,
      maxAliases: e.MAX_ALIASES,
      maxTokens: e.MAX_TOKENS,
      maxCost: e.MAX_COST,
      maxSubscriptionsPerSocket: e.MAX_SUBSCRIPTIONS_PER_SOCKET,
      wsInitTimeoutMs: e.WS_INIT_TIMEOUT_MS,
      overloadLagMs: e.OVERLOAD_LAG_MS,
      messageRatePerSecond: e.MESSAGE_RATE_PER_SECOND,
      messageRateBurst: e.MESSAGE_RATE_BURST,
      loginFailuresPer15Min: e.LOGIN_FAILURES_PER_15_MIN,
      hiddenWordsMax: e.HIDDEN_WORDS_MAX,
      reportsPerHour: e.REPORT_RATE_PER_HOUR,
      followsPerMinute: e.FOLLOW_RATE_PER_MINUTE,
      bulkIdsPerHour: e.BULK_IDS_PER_HOUR,
      loginAttemptsPerIpPer15Min: e.LOGIN_ATTEMPTS_PER_IP_PER_15_MIN,
      signUpsPerIpPerHour: e.SIGNUPS_PER_IP_PER_HOUR,
      maxSocketsPerAccount: e.MAX_SOCKETS_PER_ACCOUNT,
    },
    introspection: !production,
    graphiql: !production || e.GRAPHIQL,
    metricsToken: e.METRICS_TOKEN,
  };
  return { ...config, ...overrides };
}

/**
 * Without JWT_SECRET (development, embedded database) a secret is generated once and
 * kept beside the embedded data, so tokens survive a restart.
 */
function persistedSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
