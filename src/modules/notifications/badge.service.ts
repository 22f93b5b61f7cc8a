import type { DataSource } from 'typeorm';
import { prepared } from '../../db/prepared';
import type { Clock } from '../../lib/clock';
import { isUuid } from '../../lib/ids';
import { unreadConversationCountSql } from '../conversations/conversations.service';
import { pendingRequestCountSql } from '../requests/requests.service';
import { unreadNotificationCountSql } from './notifications.service';

export interface Badge {
  pendingRequestCount: number;
  unreadConversationCount: number;
  unreadNotificationCount: number;
  showDot: boolean;
}

/**
 * The inbox badge, composed from the counts each module owns (their SQL), read for any
 * number of accounts in one prepared statement: inboxBadgeChanged computes the badges of
 * every account a batch of messages touched together (BadgeFeed), so a chat's badge
 * traffic costs one round trip and one plan per batch, not three per message.
 */
export class BadgeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async badge(viewerId: string): Promise<Badge> {
    return (await this.badges([viewerId]))[0];
  }

  /** The badges of `userIds`, in their order. */
  async badges(userIds: readonly string[]): Promise<Badge[]> {
    const ids = userIds.map((id) => (isUuid(id) ? id : '00000000-0000-0000-0000-000000000000'));
    const { rows } = await prepared<{ i: string; pending: number; conversations: number; notifications: number }>(
      this.dataSource.manager,
      'badge.many',
      `SELECT u.i, ${pendingRequestCountSql('u.id', '$2')} AS pending, ${unreadConversationCountSql('u.id')} AS conversations,
              ${unreadNotificationCountSql('u.id', '$2')} AS notifications
         FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, i)`,
      [ids, this.clock.now()],
    );
    const byPosition = new Map(rows.map((r) => [Number(r.i), r]));
    return ids.map((_, k) => {
      const r = byPosition.get(k + 1)!;
      return {
        pendingRequestCount: r.pending,
        unreadConversationCount: r.conversations,
        unreadNotificationCount: r.notifications,
        // Hidden requests create no notification, so they never light the dot.
        showDot: r.conversations > 0 || r.notifications > 0,
      };
    });
  }
}
