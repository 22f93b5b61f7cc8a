import type { Pool } from 'pg';
import { AppError } from './errors';
import { Limiter } from '../lib/rate-limit';

/** The costly actions, other than sending, that each account has a budget for (SPEC §8). */
export type LimitedAction = 'report' | 'follow' | 'bulk';

export interface AccountLimitSettings {
  reportsPerHour: number;
  followsPerMinute: number;
  bulkIdsPerHour: number;
}

const REFUSALS: Record<LimitedAction, string> = {
  report: 'You have sent a lot of reports; try again later',
  follow: 'You are following and unfollowing too fast; slow down',
  bulk: 'You have handled a lot of requests at once; try again later',
};

/**
 * Per-account budgets for reports, follows and bulk request actions: fixed windows counted
 * in PostgreSQL (table rate_limits), so they hold across instances and are exact under a
 * parallel burst. Taken before the work (see AccountRateLimit), answered RATE_LIMITED with
 * extensions.retryAfter.
 *
 * Reports and follows spend one point per call, refused calls too (as sends do). A bulk
 * call spends one point per distinct id and is all or nothing: a call that does not fit is
 * refused whole and costs nothing, so the account can still spend what is left.
 */
export class AccountLimits {
  private readonly limiters: Record<LimitedAction, Limiter>;

  constructor(pool: Pool, settings: AccountLimitSettings) {
    this.limiters = {
      report: new Limiter(pool, 'report', settings.reportsPerHour, 3600),
      follow: new Limiter(pool, 'follow', settings.followsPerMinute, 60),
      bulk: new Limiter(pool, 'bulk', settings.bulkIdsPerHour, 3600),
    };
  }

  async take(action: LimitedAction, userId: string, points = 1): Promise<void> {
    const limiter = this.limiters[action];
    const result = action === 'bulk' ? await limiter.consumeAll(userId, points) : await limiter.consume(userId, points);
    if (!result.allowed) throw new AppError('RATE_LIMITED', REFUSALS[action], { retryAfter: result.retryAfter });
  }
}
