import type { MiddlewareFn } from 'type-graphql';
import type { Context } from './context';
import type { LimitedAction } from './account-limits';

/**
 * Spends from the viewer's budget for `action` (AccountLimits) before the resolver runs,
 * so the limit is taken before any work and holds under a parallel burst.
 * `cost(args)` is the points a call spends; 0 lets it through uncounted (input the
 * resolver refuses anyway). Anonymous calls pass through: the resolver answers
 * UNAUTHENTICATED.
 */
export function AccountRateLimit(action: LimitedAction, cost: (args: Record<string, unknown>) => number = () => 1): MiddlewareFn<Context> {
  return async ({ context, args }, next) => {
    const points = cost(args);
    if (context.viewer && points > 0) await context.services.limits.take(action, context.viewer.id, points);
    return next();
  };
}

/** reportUser: REPORT_RATE_PER_HOUR per account. */
export const ReportRateLimit = AccountRateLimit('report');

/** follow and unfollow, one shared budget: FOLLOW_RATE_PER_MINUTE per account. */
export const FollowRateLimit = AccountRateLimit('follow');
