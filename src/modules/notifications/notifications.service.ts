import type { DataSource } from 'typeorm';
import { prepared } from '../../db/prepared';
import { runInTransaction, type Tx } from '../../db/transaction';
import { badInput } from '../../graphql/errors';
import { createdAtCursor, newestFirstPage, pageRequest, toConnection, type ConnectionArgs } from '../../graphql/pagination';
import type { Clock } from '../../lib/clock';
import { isUuid } from '../../lib/ids';
import { canSeeRequestSql } from '../requests/request-visibility';
import { EventType, type EventsService } from './events.service';
import { Notification, NotificationType } from './notification.entity';

export interface NewNotification {
  userId: string;
  type: NotificationType;
  actorId: string;
  requestId?: string | null;
  conversationId?: string | null;
}

/**
 * The badge's count of `user`'s unread notifications, as a scalar sub-select (BadgeService):
 * not of a muted conversation, nor of a request the account can no longer see.
 */
export const unreadNotificationCountSql = (user: string, now: string) => `(
  SELECT count(*)::int FROM notifications n
   WHERE n.user_id = ${user} AND n.read_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM conversation_members m WHERE m.conversation_id = n.conversation_id AND m.user_id = ${user} AND m.muted)
     AND (n.request_id IS NULL
          OR EXISTS (SELECT 1 FROM message_requests r WHERE r.id = n.request_id AND ${canSeeRequestSql('r', user, now)})))`;

/** In-app notifications. Never one for a delete (SPEC §5). */
export class NotificationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventsService,
    private readonly clock: Clock,
  ) {}

  /** None when the account muted the conversation it is about (muteConversation). */
  async notifyInTx(tx: Tx, n: NewNotification): Promise<void> {
    await prepared(
      tx.manager,
      'notifications.insert',
      `INSERT INTO notifications (user_id, type, actor_id, request_id, conversation_id, created_at)
       SELECT $1::uuid, $2::varchar, $3::uuid, $4::uuid, $5::uuid, $6::timestamptz
        WHERE NOT EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = $5::uuid AND user_id = $1::uuid AND muted)`,
      [n.userId, n.type, n.actorId, n.requestId ?? null, n.conversationId ?? null, this.clock.now()],
    );
  }

  /**
   * Requests answered or put away (accepted, deleted, or from an account `userId` blocked)
   * no longer call for attention: their notifications to `userId` are marked read.
   */
  async markRequestsReadInTx(tx: Tx, userId: string, requestIds: readonly string[], now: Date): Promise<void> {
    if (!requestIds.length) return;
    await tx.manager.query(`UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE request_id = ANY($1::uuid[]) AND user_id = $2`, [
      requestIds,
      userId,
      now,
    ]);
  }

  /** A withdrawn request takes its notification with it, so the red dot drops. */
  async removeForRequestInTx(tx: Tx, requestId: string): Promise<void> {
    await tx.manager.query('DELETE FROM notifications WHERE request_id = $1', [requestId]);
  }

  async list(viewerId: string, args: ConnectionArgs) {
    const page = pageRequest(args, 2);
    const qb = this.dataSource.getRepository(Notification).createQueryBuilder('n').where('n.user_id = :viewerId', { viewerId });
    const rows = await newestFirstPage(qb, 'n', page).getMany();
    return toConnection(rows, page, createdAtCursor);
  }

  /**
   * Unread notifications that still call for attention: not one about a conversation the
   * account muted since, nor one about a request the viewer can no longer see (above all
   * one that aged out, which nothing marks read): neither lights the red dot. One statement.
   */
  /** Marks the given notifications (or all) read; returns how many changed. */
  async markRead(viewerId: string, ids: string[] | null | undefined): Promise<number> {
    if (ids && (ids.length > 100 || !ids.every(isUuid))) throw badInput('ids must be at most 100 notification ids', 'ids');
    return runInTransaction(this.dataSource, async (tx) => {
      const params: unknown[] = [viewerId, this.clock.now()];
      let where = 'user_id = $1 AND read_at IS NULL';
      if (ids) {
        params.push(ids);
        where += ' AND id = ANY($3::uuid[])';
      }
      const [, changed] = await tx.manager.query(`UPDATE notifications SET read_at = $2 WHERE ${where}`, params);
      if (changed > 0) this.events.emit(tx, viewerId, EventType.INBOX_BADGE_CHANGED, {});
      return changed as number;
    });
  }
}
