import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../lib/clock';

export interface ActiveBan {
  /** Null: until a moderator lifts it. */
  until: Date | null;
}

/**
 * The rule of an active ban, as SQL over a messaging_bans row: `until` null (until a
 * moderator lifts it) or still ahead of `at`. A row whose `until` has passed is an ended
 * ban (expired or lifted); it is kept because the automatic ban counts only reports filed
 * after it ended. Of several active rows, the longest counts.
 */
export const isActiveBanSql = (at: string) => `(until IS NULL OR until > ${at})`;

/**
 * `user`'s longest active ban at `at`, as a LEFT JOIN LATERAL named `ban` (columns `until`,
 * and `banned`, null when there is none): the send paths read it inside their
 * one-statement facts (messages.send, requests.send-facts).
 */
export const activeBanJoinSql = (user: string, at: string) => `LEFT JOIN LATERAL (
           SELECT until, true AS banned FROM messaging_bans
            WHERE user_id = ${user} AND ${isActiveBanSql(at)}
            ORDER BY until DESC NULLS FIRST LIMIT 1
         ) ban ON true`;

/**
 * An account's active messaging ban, as moderators and operators look it up. (Moderator
 * operations live in moderation.service.)
 */
export class BansService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async activeBans(userIds: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, ActiveBan>> {
    const result = new Map<string, ActiveBan>();
    if (!userIds.length) return result;
    const rows: Array<{ user_id: string; until: Date | null }> = await manager.query(
      `SELECT DISTINCT ON (user_id) user_id, until FROM messaging_bans
        WHERE user_id = ANY($1::uuid[]) AND ${isActiveBanSql('$2')}
        ORDER BY user_id, until DESC NULLS FIRST`,
      [[...new Set(userIds)], this.clock.now()],
    );
    for (const r of rows) result.set(r.user_id, { until: r.until });
    return result;
  }

  async activeBan(userId: string, manager?: EntityManager): Promise<ActiveBan | null> {
    return (await this.activeBans([userId], manager)).get(userId) ?? null;
  }
}
