import type { MiddlewareFn } from 'type-graphql';
import type { Context } from '../../graphql/context';

/**
 * Per-account rate limit for mutations that send (`@UseMiddleware(SendRateLimit)`):
 * RATE_LIMITED with extensions.retryAfter (seconds) once the account has sent
 * MESSAGE_RATE_BURST times within MESSAGE_RATE_BURST / MESSAGE_RATE_PER_SECOND seconds
 * (10 per 2 s by default: bursts of 10, about 5 per second sustained). Counted in
 * PostgreSQL, so it holds across instances. Every attempt counts, refused ones too.
 * Anonymous calls pass through: the resolver answers UNAUTHENTICATED.
 */
export const SendRateLimit: MiddlewareFn<Context> = async ({ context }, next) => {
  if (context.viewer) await context.services.moderation.consumeSend(context.viewer.id);
  return next();
};
