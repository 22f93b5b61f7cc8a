import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Limits counted in PostgreSQL (table rate_limits, created by the migrations) so they
 * hold across every instance. `retryAfter` is whole seconds.
 */
export type LimitResult = { allowed: true } | { allowed: false; retryAfter: number };

export class Limiter {
  private readonly limiter: RateLimiterPostgres;

  constructor(pool: Pool, keyPrefix: string, points: number, durationSeconds: number) {
    this.limiter = new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix,
      points,
      duration: durationSeconds,
    });
  }

  async consume(key: string, points = 1): Promise<LimitResult> {
    try {
      await this.limiter.consume(key, points);
      return { allowed: true };
    } catch (res) {
      if (res instanceof RateLimiterRes) return { allowed: false, retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
      throw res;
    }
  }

  /**
   * Spends `points` only if all of them fit in what is left: a refused call is given its
   * points back, so asking for more than remains does not burn the rest. The spend itself
   * is one atomic upsert, so parallel callers never pass more than the limit between them
   * (a race can at worst refuse a call that would have fitted once the other's points
   * came back).
   */
  async consumeAll(key: string, points: number): Promise<LimitResult> {
    const result = await this.consume(key, points);
    if (!result.allowed) await this.limiter.reward(key, points);
    return result;
  }

  /** Whether `key` has used up its points, without spending one. */
  async check(key: string, points: number): Promise<LimitResult> {
    const res = await this.limiter.get(key);
    if (res && res.consumedPoints >= points) return { allowed: false, retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
    return { allowed: true };
  }

  reset(key: string): Promise<boolean> {
    return this.limiter.delete(key);
  }
}
