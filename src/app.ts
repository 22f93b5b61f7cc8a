import 'reflect-metadata';
import http from 'node:http';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { GraphQLError, NoSchemaIntrospectionCustomRule, getOperationAST, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Context as WsContext } from 'graphql-ws';
import { useServer, type Extra as WsExtra } from 'graphql-ws/use/ws';
import type { DataSource } from 'typeorm';
import type { PoolConfig } from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config';
import { systemClock, type Clock } from './lib/clock';
import { createLogger } from './lib/logger';
import { openDatabase, type Database, type SqlCounter } from './db/database';
import { createBus, type BusStatus } from './graphql/pubsub';
import { buildAppSchema } from './graphql/schema';
import { createFormatError, type AppError } from './graphql/errors';
import { createLoaders } from './graphql/loaders';
import { jsonPostHandler } from './graphql/json-post';
import { checkCost, limitAwareFormatError, limitRules, parseAndValidate } from './graphql/limits';
import { createMetrics, secondsSince, type Metrics } from './graphql/metrics';
import { AuthService, type TokenClaims } from './modules/users/auth.service';
import type { SessionState } from './modules/users/sessions.service';
import { SocketSessions } from './graphql/socket-sessions';
import { SocketSlots } from './db/socket-slots';
import { clientKey } from './lib/ip';
import { createServices, type Services } from './services';
import type { Context, Viewer } from './graphql/context';
import { corkPerTick } from './graphql/ws-cork';
import { shedBeforeGraphqlWs } from './graphql/ws-shed';
import { OverloadGuard } from './graphql/overload';
import { BoundedCache } from './lib/bounded-cache';
import { graphiqlRouter } from './graphql/graphiql';
import { requestLogPlugin } from './graphql/request-log';
import { EventRetentionJob } from './modules/notifications/event-retention';

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  /** Tests pass one to count SQL statements per operation. */
  sqlCounter?: SqlCounter;
}

export interface App {
  server: http.Server;
  url: string;
  wsUrl: string;
  dataSource: DataSource;
  services: Services;
  /** Prunes the event log after EVENT_RETENTION_DAYS: at start, then hourly. */
  eventRetention: EventRetentionJob;
  /** Purges moderators' sealed texts after SEALED_TEXT_RETENTION_DAYS, on the same schedule. */
  sealedRetention: EventRetentionJob;
  schema: GraphQLSchema;
  /** This instance's Prometheus registry, served at GET /metrics. */
  metrics: Metrics;
  /** Load shedding on event-loop lag (OVERLOAD_LAG_MS). */
  overload: OverloadGuard;
  /** The HTTP server under both GraphQL transports (tests). */
  httpServer: http.Server;
  listen(port?: number, host?: string): Promise<void>;
  close(): Promise<void>;
}

type SocketExtra = {
  viewer?: Viewer;
  session?: TokenClaims;
  subscriptions?: Set<string>;
  /** Per operation id: when it started and what it is, for the metrics. */
  started?: Map<string, { at: bigint; operation: string | null; type: string | null }>;
  request: http.IncomingMessage;
};

/**
 * Builds the whole service: database (migrated), schema, Apollo over HTTP and graphql-ws
 * over WebSocket on one http.Server and one path. Tests call this with port 0.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const database: Database = await openDatabase(config, logger, options.sqlCounter);
  const { dataSource } = database;
  // Late-bound: the sources exist only once the services and the WebSocket server do.
  const sources = { sockets: () => 0, subscriptions: () => 0, bus: (): BusStatus => 'in-process' };
  const metrics = createMetrics(
    { activeSockets: () => sources.sockets(), activeSubscriptions: () => sources.subscriptions(), eventBus: () => sources.bus() },
    { defaultMetrics: config.env !== 'test', clock },
  );
  const bus = createBus(config.redisUrl, logger);
  sources.bus = () => bus.status();
  const services = createServices({
    dataSource, limitsPool: database.limitsPool, config, clock, pubsub: bus.pubsub, logger, serving: true,
    onDeliver: (e) => metrics.observePublishLag((Date.now() - Number(e.publishedAt)) / 1000),
  });
  await services.sendBatcher.ready();
  const eventRetention = new EventRetentionJob(services.events, config.events.retentionDays, logger).start();
  const sealedRetention = new EventRetentionJob(
    services.sealedTexts,
    config.messageActions.sealedRetentionDays,
    logger,
    undefined,
    'sealed message texts',
  ).start();
  const schema = await buildAppSchema();
  const production = config.env === 'production';
  // Same codes on HTTP and WebSocket; no "Did you mean" in production (see limits.ts).
  const formatError = limitAwareFormatError(createFormatError(logger, config.env === 'development'), { hideSuggestions: production });
  const limits = config.limits;
  const operationLimits = { maxDepth: limits.maxDepth, maxAliases: limits.maxAliases, maxTokens: limits.maxTokens, maxCost: limits.maxCost };

  const expressApp = express();
  expressApp.disable('x-powered-by');
  // POST /graphql with JSON goes straight to Apollo once it has started (json-post.ts).
  let jsonPost: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | null = null;
  const server = http.createServer((req, res) => {
    if (!jsonPost?.(req, res)) expressApp(req, res);
  });
  server.on('clientError', answerClientError);
  const wsServer = new WebSocketServer({ server, path: '/graphql', maxPayload: limits.maxWsFrameBytes });
  const logServerError = (err: Error) => logger.error({ err }, 'websocket server error');
  wsServer.on('error', logServerError);
  sources.sockets = () => wsServer.clients.size;
  sources.subscriptions = () => services.events.listenerCount();
  // Introspection off in production on both paths (Apollo adds this rule over HTTP).
  const wsExtraRules = config.introspection ? [] : [NoSchemaIntrospectionCustomRule];

  // Synchronous for a token checked lately (nearly every request): no promise, no SQL.
  const sessionFrom = (header: unknown): SessionState | null | Promise<SessionState | null> => {
    const token = AuthService.tokenFrom(header);
    if (!token) return null;
    return services.sessions.cached(token) ?? services.sessions.resolve(token);
  };
  services.sessions.start();
  const poolOptions = (dataSource.driver as unknown as { master: { options: PoolConfig } }).master.options;
  const socketSessions = new SocketSessions(
    services.sessions,
    new SocketSlots(poolOptions, limits.maxSocketsPerAccount, logger),
    config.tokenRecheckSeconds * 1000,
    logger,
  );

  const overload = new OverloadGuard(limits.overloadLagMs);
  overload.start();

  // Thousands of clients subscribe with the same few documents: parse and validate each
  // once and share the AST (validation depends only on the document and the schema).
  const validDocuments = new BoundedCache<string, { document: DocumentNode }>(500);

  // Under overload, frames for known query and mutation documents are refused below
  // graphql-ws (ws-shed.ts), with the very frame onSubscribe's refusal would send.
  const connections = new WeakMap<WebSocket, WsContext<Record<string, unknown>, WsExtra & SocketExtra>>();
  const shedPayload = JSON.stringify([overloadError(OverloadGuard.refusalError())].map(toFormattedGraphQLError(formatError)));
  wsServer.on('connection', (socket) =>
    shedBeforeGraphqlWs(socket, {
      connection: (s) => {
        const ctx = connections.get(s);
        if (!ctx || !socketSessions.isLive(s) || ctx.extra.subscriptions!.size >= limits.maxSubscriptionsPerSocket) return undefined;
        return ctx;
      },
      knownDocument: (query) => validDocuments.get(query)?.document,
      refusal: () => (overload.shedding() ? shedPayload : null),
      refused: (operation) => metrics.observeOperation({ operation, type: null, transport: 'ws', outcome: 'refused', seconds: 0 }),
    }),
  );

  const wsCleanup = useServer<Record<string, unknown>, SocketExtra>(
    {
      schema,
      connectionInitWaitTimeout: limits.wsInitTimeoutMs,
      // A missing, bad, expired or revoked token closes the socket with 4403 Forbidden;
      // one socket over the account's cap with 4430 (SocketSessions.admit).
      onConnect: async (ctx) => {
        const state = await sessionFrom(ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization);
        if (!state?.live) return false;
        if (!(await socketSessions.admit(ctx.extra.socket, state.claims))) return false;
        ctx.extra.viewer = { id: state.claims.userId };
        ctx.extra.session = state.claims;
        ctx.extra.subscriptions = new Set();
        connections.set(ctx.extra.socket, ctx);
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const at = process.hrtime.bigint();
        const refuse = (errors: GraphQLError[]) => {
          metrics.observeOperation({ operation: payload.operationName, type: null, transport: 'ws', outcome: 'refused', seconds: secondsSince(at) });
          return errors.map(toFormattedGraphQLError(formatError));
        };
        // Its token expired or was revoked: the close is on its way; nothing more runs.
        if (!socketSessions.isLive(ctx.extra.socket)) {
          return refuse([new GraphQLError('Your session has ended; sign in again', { extensions: { code: 'UNAUTHENTICATED' } })]);
        }
        const active = ctx.extra.subscriptions!;
        if (active.size >= limits.maxSubscriptionsPerSocket) {
          return refuse([new GraphQLError(`At most ${limits.maxSubscriptionsPerSocket} subscriptions per connection`, { extensions: { code: 'RATE_LIMITED' } })]);
        }
        // The same limits, in the same order, as Apollo applies over HTTP.
        const parsed = validDocuments.get(payload.query) ?? parseAndValidate(schema, payload.query, operationLimits, wsExtraRules);
        if ('errors' in parsed) return refuse(parsed.errors);
        if (payload.query.length <= 8192) validDocuments.set(payload.query, parsed);
        const operation = getOperationAST(parsed.document, payload.operationName);
        // A subscription is taken even so: refusing it would lose the client its live events.
        const overloaded = operation?.operation === 'subscription' ? null : overload.refusal();
        if (overloaded) return refuse([overloadError(overloaded)]);
        const tooCostly = checkCost(schema, parsed.document, payload.variables, payload.operationName, limits.maxCost);
        if (tooCostly) return refuse([tooCostly]);
        active.add(id);
        (ctx.extra.started ??= new Map()).set(id, { at, operation: operation?.name?.value ?? payload.operationName ?? null, type: operation?.operation ?? null });
        const viewer = ctx.extra.viewer!;
        const contextValue: Context = {
          viewer,
          session: ctx.extra.session ?? null,
          clientIp: clientKey(ctx.extra.request.socket.remoteAddress),
          requestId: randomUUID(),
          services,
          // Subscriptions live long: no loader cache, or events would show stale data.
          loaders: createLoaders(services, viewer.id, { cache: false }),
        };
        const args: ExecutionArgs = {
          schema,
          document: parsed.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
        return args;
      },
      onOperation: async (ctx, id, _payload, _args, pending) => {
        const result = await pending;
        const started = ctx.extra.started?.get(id);
        ctx.extra.started?.delete(id);
        if (started) {
          const outcome = Symbol.asyncIterator in result || !result.errors?.length ? 'ok' : 'error';
          metrics.observeOperation({ operation: started.operation, type: started.type, transport: 'ws', outcome, seconds: secondsSince(started.at) });
        }
      },
      // Errors over WebSocket go through the same formatError as over HTTP. Formatted as each
      // result is sent rather than by wrapping the stream: one stream layer less for every
      // subscription, which each delivery passes through.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map(toFormattedGraphQLError(formatError)) } : undefined,
      onComplete: (ctx, id) => {
        ctx.extra.subscriptions?.delete(id);
        ctx.extra.started?.delete(id);
      },
    },
    wsServer,
  );
  // graphql-ws closes every socket with 4500 when the WebSocket server emits 'error', and
  // the WebSocket server re-emits its HTTP server's: one failed accept (ENOBUFS, ENOMEM)
  // would drop every connected client for a connection that never opened. Such an error
  // is logged and concerns no open socket. (At the open-files limit libuv closes the
  // pending connections itself and reports nothing: docs/deployment.md.)
  for (const listener of wsServer.listeners('error')) if (listener !== logServerError) wsServer.removeListener('error', listener as (err: Error) => void);
  // A socket error is the client's doing (a frame over maxPayload: ws has already closed
  // it with 1009; a broken frame: 1002). graphql-ws would console.error each one; log it
  // at debug instead so a hostile client cannot flood the logs.
  wsServer.on('connection', (socket) => {
    corkPerTick(socket);
    socket.removeAllListeners('error');
    socket.on('error', (err: Error & { code?: string }) => {
      logger.debug({ err: err.message, code: err.code }, 'websocket closed on a protocol error');
      if (socket.readyState === socket.OPEN) socket.close(1011, 'Internal server error');
    });
  });

  const limitsPlugin: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      const at = process.hrtime.bigint();
      let executed = false;
      return {
        async didResolveOperation({ request, document, operation, operationName }) {
          const overloaded = operation?.operation === 'subscription' ? null : overload.refusal();
          if (overloaded) throw overloadError(overloaded);
          const err = checkCost(schema, document, request.variables, operationName, limits.maxCost);
          if (err) throw err;
        },
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse({ operationName, request, operation, document, errors }) {
          const outcome = !executed ? 'refused' : errors?.length ? 'error' : 'ok';
          // A refused operation has no resolved name yet: take it from the parsed document.
          const name = operationName ?? request.operationName ?? (document && getOperationAST(document)?.name?.value);
          metrics.observeOperation({ operation: name, type: operation?.operation, transport: 'http', outcome, seconds: secondsSince(at) });
        },
      };
    },
  };

  const apollo = new ApolloServer<Context>({
    schema,
    formatError,
    introspection: config.introspection,
    hideSchemaDetailsFromClientErrors: production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // index.ts owns SIGTERM/SIGINT (app.close(), then exit); Apollo's own handler would race it.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: limitRules(operationLimits),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      limitsPlugin,
      requestLogPlugin(logger),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              // Close sockets with 1001 Going Away so clients reconnect elsewhere.
              for (const client of wsServer.clients) client.close(1001, 'Server shutting down');
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
    logger: { debug: () => undefined, info: () => undefined, warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
  });
  await apollo.start();

  const requestIdOf = (req: http.IncomingMessage) => (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) || randomUUID();
  const contextFor = (state: SessionState | null, req: http.IncomingMessage, requestId: string): Context => {
    const viewer = state?.live ? { id: state.claims.userId } : null;
    const clientIp = clientKey(req.socket.remoteAddress);
    return { viewer, session: state?.claims ?? null, clientIp, requestId, services, loaders: createLoaders(services, viewer?.id ?? null) };
  };
  const httpContext = (req: http.IncomingMessage, requestId: string): Promise<Context> => {
    const state = sessionFrom(req.headers.authorization);
    return state instanceof Promise ? state.then((s) => contextFor(s, req, requestId)) : Promise.resolve(contextFor(state, req, requestId));
  };
  const refusedBody = () => metrics.observeOperation({ operation: null, type: null, transport: 'http', outcome: 'refused', seconds: 0 });
  jsonPost = jsonPostHandler({
    apollo,
    maxBodyBytes: limits.maxBodyBytes,
    requestId: requestIdOf,
    context: (req, requestId) => httpContext(req, requestId),
    onRefused: refusedBody,
  });

  expressApp.use((req, res, next) => {
    const id = requestIdOf(req);
    res.setHeader('x-request-id', id);
    (req as unknown as { id: string }).id = id;
    next();
  });
  expressApp.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  expressApp.get('/metrics', async (req, res) => {
    if (config.metricsToken && !bearerMatches(req.headers.authorization, config.metricsToken)) {
      res.status(401).setHeader('www-authenticate', 'Bearer').json({ error: 'metrics need their bearer token' });
      return;
    }
    res.setHeader('content-type', metrics.contentType);
    res.end(await metrics.render());
  });
  expressApp.get('/readyz', async (_req, res) => {
    try {
      await dataSource.query('SELECT 1');
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'database unreachable' });
    }
  });
  expressApp.use(graphiqlRouter(config, schema)); // GET /graphql from a browser: the IDE (before Apollo)
  expressApp.use(
    '/graphql',
    express.json({ limit: limits.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: ({ req }) => httpContext(req, (req as unknown as { id: string }).id),
    }),
  );
  // Malformed or oversized bodies: a 4xx with a GraphQL-shaped error, never a 500.
  expressApp.use((err: { status?: number; type?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ err }, 'unhandled http error');
    const message =
      err.type === 'entity.too.large' ? `Request body is over ${limits.maxBodyBytes} bytes` : status === 500 ? 'Internal server error' : 'Malformed request';
    refusedBody();
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
  });

  let url = '';
  let wsUrl = '';
  let closed = false;
  return {
    server,
    get url() {
      return url;
    },
    get wsUrl() {
      return wsUrl;
    },
    dataSource,
    services,
    eventRetention,
    sealedRetention,
    schema,
    metrics,
    overload,
    httpServer: server,
    async listen(port = config.port, host = config.host) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // Node's default backlog (511) overflowed when 10,000 clients reconnected at once:
        // each dropped SYN costs its client a retransmit, 1 s and then doubling
        // (docs/deployment.md, "Reconnect storms").
        server.listen({ port, host, backlog: config.listenBacklog }, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' ? 'localhost' : host;
      url = `http://${shownHost}:${address.port}/graphql`;
      wsUrl = `ws://${shownHost}:${address.port}/graphql`;
    },
    async close() {
      if (closed) return;
      closed = true;
      overload.stop();
      await apollo.stop();
      await eventRetention.stop();
      await sealedRetention.stop();
      services.sessions.stop();
      await socketSessions.close();
      wsServer.close();
      await services.sendBatcher.close();
      await bus.close();
      await database.close();
    },
  };
}

/** An overload refusal as GraphQL answers it: over HTTP, 503 with Retry-After. */
function overloadError(refusal: AppError): GraphQLError {
  const retryAfter = String(refusal.extensions.retryAfter);
  return new GraphQLError(refusal.message, {
    extensions: { ...refusal.extensions, code: refusal.code, http: { status: 503, headers: new Map([['retry-after', retryAfter]]) } },
  });
}

function toFormattedGraphQLError(formatError: ReturnType<typeof createFormatError>) {
  return (error: GraphQLError): GraphQLError => {
    const formatted = formatError(error.toJSON(), error);
    return new GraphQLError(formatted.message, { extensions: formatted.extensions, path: formatted.path });
  };
}

/** `Authorization: Bearer <expected>`, compared in constant time. */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = Buffer.from(header ?? '');
  const wanted = Buffer.from(`Bearer ${expected}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * What Node's HTTP parser refuses before any handler runs, in the shape of our other
 * refusals (a GraphQL error, code BAD_REQUEST) rather than Node's bare status line: above
 * all a request line or headers over Node's 16 KB limit, i.e. a long GET URL (431).
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['431 Request Header Fields Too Large', 'The request line or headers are too large: send the operation in a POST body']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['408 Request Timeout', 'The request took too long to arrive']
        : ['400 Bad Request', 'Malformed HTTP request'];
  const body = JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
