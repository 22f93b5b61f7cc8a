import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../lib/clock';
import { AppError } from '../../graphql/errors';

export interface ActiveBan {
  /** Null: until a moderator lifts it. */
  until: Date | null;
}

/**
 * Messaging bans as read by the send rules. (Moderator operations live in moderation.service.)
 * A row whose `until` has passed is an ended ban (expired or lifted); it is kept because
 * the automatic ban counts only reports filed after it ended.
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
      `SELECT user_id, until FROM messaging_bans WHERE user_id = ANY($1::uuid[]) AND (until IS NULL OR until > $2)`,
      [[...new Set(userIds)], this.clock.now()],
    );
    for (const r of rows) result.set(r.user_id, { until: r.until });
    return result;
  }

  async activeBan(userId: string, manager?: EntityManager): Promise<ActiveBan | null> {
    return (await this.activeBans([userId], manager)).get(userId) ?? null;
  }

  /** SPEC §2 rule 3: MESSAGING_BANNED with extensions.until (ISO time, or null until lifted). */
  async requireNotBanned(userId: string, manager?: EntityManager): Promise<void> {
    const ban = await this.activeBan(userId, manager);
    if (ban) throw messagingBanned(ban);
  }
}

export function messagingBanned(ban: ActiveBan): AppError {
  const message = ban.until
    ? `You can't send messages until ${ban.until.toISOString()}`
    : "You can't send messages until a moderator reviews your account";
  return new AppError('MESSAGING_BANNED', message, { until: ban.until ? ban.until.toISOString() : null });
}
