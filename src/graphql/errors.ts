import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';

/**
 * The error catalogue: every code a client can receive, with what it means. The docs
 * (docs/errors.md) must describe each one; a test enforces that.
 */
export const ERROR_CODES = {
  UNAUTHENTICATED: 'No valid bearer token was sent, or log-in failed (wrong username or password).',
  FORBIDDEN: 'The viewer is not allowed to do this (moderator-only operations).',
  NOT_FOUND: 'The thing does not exist or the viewer may not see it.',
  BAD_USER_INPUT: 'An argument is missing, malformed or out of range.',
  RATE_LIMITED: 'Too many attempts; retry after extensions.retryAfter seconds.',
  CANNOT_MESSAGE_SELF: 'A request cannot be sent to oneself.',
  MESSAGING_BANNED: 'The sender is banned from messaging until extensions.until (null: until lifted).',
  SENDER_UNDER_MINIMUM_AGE: 'Direct messages are unavailable to accounts under 16.',
  RECIPIENT_UNAVAILABLE: 'This account cannot be messaged (deliberately unspecific).',
  MESSAGING_DISABLED: "Not produced since round two: a recipient's messages off answers RECIPIENT_UNAVAILABLE (docs/decisions.md). Kept so older clients' handling stays valid.",
  OWN_MESSAGING_DISABLED: "The viewer's own policy is NOBODY: messaging is off both ways; turn messages on in settings to send.",
  NOT_FOLLOWED_BY_RECIPIENT: "Messages cannot be sent since this user isn't following you.",
  ALREADY_CONNECTED: 'A conversation is already open; use sendMessage (extensions.conversationId).',
  REQUEST_ALREADY_PENDING: 'A request to this account is already pending.',
  DAILY_REQUEST_LIMIT_REACHED: 'The rolling 24-hour request limit is reached (extensions.retryAfter).',
  REQUEST_PENDING: 'The request has not been accepted yet; no more messages until it is.',
  IDEMPOTENCY_KEY_REUSED: 'This clientMessageId was already used with different content.',
  UNSEND_WINDOW_CLOSED: 'The message is older than the unsend window (UNSEND_WINDOW_HOURS; extensions.windowSeconds).',
  EDIT_WINDOW_CLOSED: 'The message is older than the edit window (EDIT_WINDOW_MINUTES; extensions.windowSeconds).',
  EDIT_LIMIT_REACHED: 'The message was already edited the most times allowed (MAX_EDITS; extensions.maxEdits).',
  QUERY_TOO_COMPLEX: 'The operation is over a depth, alias, token or cost limit.',
  INTERNAL_SERVER_ERROR: 'Something failed on our side; safe to retry.',
  SERVICE_UNAVAILABLE: 'The database is briefly unreachable or the server is overloaded; safe to retry (after extensions.retryAfter when given).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Services throw this; only this folder turns it into a GraphQLError. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badInput = (message: string, field?: string) =>
  new AppError('BAD_USER_INPUT', message, field ? { field } : {});
export const notFound = (what = 'Not found') => new AppError('NOT_FOUND', what);

/** Apollo's own codes for requests refused before execution. */
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'BAD_REQUEST',
]);

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08006', '08001', '08003']);

/** PostgreSQL SQLSTATE class 22, data exception: the value itself was unacceptable. */
export function isDataException(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } } | undefined;
  const code = e?.code ?? e?.driverError?.code;
  return typeof code === 'string' && code.startsWith('22');
}

/**
 * Whether `err` means the database is unreachable (down, restarting, shutting down, the
 * connection cut). Looks through the wrappers these errors arrive in: TypeORM's
 * `driverError`, `cause`, AggregateError's `errors` (a refused connect to every address),
 * and graphql-js's NonErrorThrown `thrownValue` (a socket error from another realm, e.g.
 * under Jest, is not `instanceof Error`).
 */
export function isConnectionError(err: unknown, depth = 0): boolean {
  const e = err as
    | { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; thrownValue?: unknown; originalError?: unknown; errors?: unknown }
    | undefined;
  if (!e || typeof e !== 'object' || depth > 4) return false;
  if (typeof e.code === 'string' && CONNECTION_ERRORS.has(e.code)) return true;
  if (typeof e.message === 'string' && /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message)) return true;
  const inner = [e.driverError, e.cause, e.thrownValue, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])];
  return inner.some((x) => x !== undefined && x !== err && isConnectionError(x, depth + 1));
}

/**
 * One formatter for HTTP and WebSocket: AppErrors keep their code and extensions;
 * GraphQL's own refusals keep theirs; anything else is logged and answered as an opaque
 * INTERNAL_SERVER_ERROR (or SERVICE_UNAVAILABLE while the database is unreachable).
 */
export function createFormatError(logger: Logger, exposeDetails: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { ...original.extensions, code: original.code },
      };
    }
    const code = formatted.extensions?.code as string | undefined;
    if (code && (CLIENT_CODES.has(code) || code in ERROR_CODES) && code !== 'INTERNAL_SERVER_ERROR') {
      const { stacktrace: _s, ...ext } = formatted.extensions ?? {};
      return { ...formatted, extensions: ext };
    }
    if (original instanceof GraphQLError && !original.originalError && !code) {
      // A validation or coercion error raised by graphql-js itself (e.g. a bad enum value).
      return { message: formatted.message, locations: formatted.locations, extensions: { code: 'BAD_USER_INPUT' } };
    }
    if (isDataException(original)) {
      // PostgreSQL refused a value (class 22: bad encoding, out of range…). Every input is
      // validated before SQL; this net keeps a missed case a client error without SQL text.
      logger.warn({ err: original, path: formatted.path }, 'input reached SQL unvalidated');
      return { message: 'An argument has a value that cannot be stored', path: formatted.path, extensions: { code: 'BAD_USER_INPUT' } };
    }
    if (isConnectionError(original)) {
      logger.warn({ err: original }, 'database unavailable');
      return { message: 'The database is briefly unreachable; safe to retry.', path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected resolver error');
    return {
      message: exposeDetails && original instanceof Error ? original.message : 'Internal server error',
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
