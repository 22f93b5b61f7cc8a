import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../lib/clock';

export interface ActiveBan {
  /** Null: until a moderator lifts it. */
  until: Date | null;
}

/**
 * An account's active messaging ban, as moderators and operators look it up. (Moderator
 * operations live in moderation.service.) The send paths read the same rule inside their
 * one-statement facts queries (messages.send-facts, requests.send-facts): a row whose
 * `until` is null or still ahead is active, and the longest one counts. A row whose
 * `until` has passed is an ended ban (expired or lifted); it is kept because the automatic
 * ban counts only reports filed after it ended.
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
        WHERE user_id = ANY($1::uuid[]) AND (until IS NULL OR until > $2)
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
