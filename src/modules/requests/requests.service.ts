import type { DataSource } from 'typeorm';
import { lockPair } from '../../db/pair-lock';
import { runInTransaction, type Tx } from '../../db/transaction';
import { AppError, badInput, notFound } from '../../graphql/errors';
import { createdAtCursor, newestFirstPage, pageRequest, toConnection, type ConnectionArgs } from '../../graphql/pagination';
import type { Clock } from '../../lib/clock';
import { isUuid } from '../../lib/ids';
import type { ConversationsService } from '../conversations/conversations.service';
import type { IntroChange } from '../messages/message-actions.service';
import { EventType, type EventsService } from '../notifications/events.service';
import { NotificationType } from '../notifications/notification.entity';
import type { NotificationsService } from '../notifications/notifications.service';
import type { RelationshipsService } from '../relationships/relationships.service';
import { syncIntroVisibility } from './intro-visibility';
import { recipientPage } from './recipient-page';
import { MessageRequest, StoredRequestStatus } from './message-request.entity';
import { canSeeRequest, isActionable, isAgedOutFor } from './request-visibility';

export const MAX_BULK = 100;

/**
 * The badge's count of `user`'s requests, as a scalar sub-select (BadgeService reads every
 * count of many badges in one statement): the Requests folder (folderQuery) but those
 * whose conversation the viewer muted (they stay in the folder).
 */
export const pendingRequestCountSql = (user: string, now: string) => `(
  SELECT count(*)::int FROM message_requests r
   WHERE r.recipient_id = ${user} AND NOT r.hidden AND r.status = 'PENDING' AND r.deleted_at IS NULL AND r.expires_at > ${now}
     AND NOT EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = r.conversation_id AND cm.user_id = r.recipient_id AND cm.muted))`;

/**
 * What happens to a request after it is sent: the recipient's accept and delete (one or
 * many), the sender's withdraw, a block putting requests away, and the folders. Sending is
 * RequestSendService's (request-send.service.ts).
 */
export class RequestsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly relationships: RelationshipsService,
    private readonly conversations: ConversationsService,
    private readonly notifications: NotificationsService,
    private readonly events: EventsService,
  ) {
    // A block takes a pending request between the two out of the blocker's folder, and
    // withdraws the blocker's own pending request to the blocked account.
    // blockInTx runs this under the pair's lock.
    relationships.onBlock(async (tx, blockerId, blockedId) => {
      const now = this.clock.now();
      const [putAway]: [Array<{ id: string }>, number] = await tx.manager.query(
        `UPDATE message_requests SET deleted_at = COALESCE(deleted_at, $3)
          WHERE sender_id = $2 AND recipient_id = $1 AND status = 'PENDING' RETURNING id`,
        [blockerId, blockedId, now],
      );
      // Gone from the folder, so gone from the red dot too.
      await this.notifications.markRequestsReadInTx(tx, blockerId, putAway.map((r) => r.id), now);
      // Exactly a withdraw (see withdraw()): what the blocked account sees must not tell the
      // two apart, so it hears the same badge event, and only when a withdraw would send one.
      // A request that already aged out is left as it is, as withdraw() would refuse it.
      const [withdrawn]: [Array<{ id: string; hidden: boolean; deleted_at: Date | null }>, number] = await tx.manager.query(
        `UPDATE message_requests SET status = 'WITHDRAWN'
          WHERE sender_id = $1 AND recipient_id = $2 AND status = 'PENDING' AND expires_at > $3 RETURNING id, hidden, deleted_at`,
        [blockerId, blockedId, now],
      );
      for (const r of withdrawn) {
        await this.notifications.removeForRequestInTx(tx, r.id);
        if (!r.hidden && !r.deleted_at) this.events.emit(tx, blockedId, EventType.INBOX_BADGE_CHANGED, {});
      }
      this.events.emit(tx, blockerId, EventType.INBOX_BADGE_CHANGED, {});
    });
  }

  // ---- the recipient's actions ---------------------------------------------------------

  async accept(viewerId: string, id: string) {
    return runInTransaction(this.dataSource, async (tx) => {
      const request = await this.lockForAction(tx, viewerId, id, 'recipient');
      const now = this.clock.now();
      if (request.status === StoredRequestStatus.ACCEPTED) return request.conversationId;
      if (!isActionable(request, now)) throw notFound('Message request not found');
      await this.acceptInTx(tx, request, now);
      return request.conversationId;
    });
  }

  async acceptMany(viewerId: string, ids: string[]) {
    return this.bulk(ids, (id) => this.accept(viewerId, id));
  }

  /** Accepting, also for a crossing send (RequestSendService). */
  async acceptInTx(tx: Tx, request: MessageRequest, now: Date): Promise<void> {
    // deletedAt: a crossing send accepts a request its sender deleted (see send).
    await tx.manager.update(MessageRequest, { id: request.id }, { status: StoredRequestStatus.ACCEPTED, acceptedAt: now, deletedAt: null });
    await this.conversations.openInTx(tx, request.conversationId, now);
    await syncIntroVisibility(tx, request.senderId, request.recipientId, now);
    await this.notifications.notifyInTx(tx, {
      userId: request.senderId,
      type: NotificationType.MESSAGE_REQUEST_ACCEPTED,
      actorId: request.recipientId,
      requestId: request.id,
      conversationId: request.conversationId,
    });
    // The request is answered: its "received" notification no longer calls for attention.
    await this.notifications.markRequestsReadInTx(tx, request.recipientId, [request.id], now);
    this.events.emit(tx, request.senderId, EventType.MESSAGE_REQUEST_ACCEPTED, { requestId: request.id });
    this.events.emit(tx, request.senderId, EventType.INBOX_BADGE_CHANGED, {});
    this.events.emit(tx, request.recipientId, EventType.INBOX_BADGE_CHANGED, {});
  }

  /**
   * Deleting a pending request takes it out of the folder and tells the sender nothing.
   * Deleting an accepted one hides the conversation from the viewer's inbox (SPEC §4).
   * A request that aged out can still be deleted (a stale folder), and blocked with it.
   */
  async delete(viewerId: string, id: string, block: boolean) {
    return runInTransaction(this.dataSource, async (tx) => {
      const request = await this.lockForAction(tx, viewerId, id, 'recipient', true);
      const now = this.clock.now();
      if (request.status === StoredRequestStatus.ACCEPTED) {
        await tx.manager.query(`UPDATE conversation_members SET in_inbox = false WHERE conversation_id = $1 AND user_id = $2`, [
          request.conversationId,
          viewerId,
        ]);
      } else if ((request.status === StoredRequestStatus.PENDING || request.status === StoredRequestStatus.EXPIRED) && !request.deletedAt) {
        await tx.manager.update(MessageRequest, { id: request.id }, { deletedAt: now });
        await this.notifications.markRequestsReadInTx(tx, viewerId, [request.id], now);
      } else if (!request.deletedAt) {
        throw notFound('Message request not found');
      }
      if (block) await this.relationships.blockInTx(tx, viewerId, request.senderId);
      this.events.emit(tx, viewerId, EventType.INBOX_BADGE_CHANGED, {});
      return true;
    });
  }

  async deleteMany(viewerId: string, ids: string[], block: boolean) {
    return this.bulk(ids, (id) => this.delete(viewerId, id, block));
  }

  // ---- the sender's actions ------------------------------------------------------------

  async withdraw(viewerId: string, id: string): Promise<MessageRequest> {
    return runInTransaction(this.dataSource, async (tx) => {
      const request = await this.lockForAction(tx, viewerId, id, 'sender');
      const now = this.clock.now();
      if (request.status === StoredRequestStatus.WITHDRAWN) return request;
      if (request.status !== StoredRequestStatus.PENDING || request.expiresAt <= now) {
        throw badInput('Only a pending request can be withdrawn', 'id');
      }
      await this.withdrawInTx(tx, request);
      return { ...request, status: StoredRequestStatus.WITHDRAWN };
    });
  }

  /** A pending request leaves the recipient's folder and badge (call under the pair's lock, the row locked). */
  private async withdrawInTx(tx: Tx, request: MessageRequest): Promise<void> {
    await tx.manager.update(MessageRequest, { id: request.id }, { status: StoredRequestStatus.WITHDRAWN });
    await this.notifications.removeForRequestInTx(tx, request.id);
    if (!request.hidden && !request.deletedAt) this.events.emit(tx, request.recipientId, EventType.INBOX_BADGE_CHANGED, {});
  }

  /**
   * An intro was edited or unsent (MessageActionsService, under the pair's lock): the
   * request's copy of its text follows, so no request view shows a text its sender took
   * back. Unsending the intro of the sender's own pending request withdraws it, exactly as
   * withdrawMessageRequest does.
   */
  async introChangedInTx(tx: Tx, change: IntroChange): Promise<void> {
    const [rows]: [Array<{ id: string }>, number] = await tx.manager.query(
      `UPDATE message_requests SET text = $2 WHERE message_id = $1 RETURNING id`,
      [change.messageId, change.text],
    );
    if (!change.unsent || rows.length === 0) return;
    const request = await tx.manager.findOneBy(MessageRequest, { id: rows[0].id });
    if (request && request.senderId === change.actorId && request.status === StoredRequestStatus.PENDING && request.expiresAt > change.now) {
      await this.withdrawInTx(tx, request);
    }
  }

  // ---- reading -------------------------------------------------------------------------

  /** The recipient's folder (or hidden folder): pending, not deleted, not expired, newest first. */
  async folder(viewerId: string, hidden: boolean, args: ConnectionArgs) {
    const page = pageRequest(args, 2);
    const now = this.clock.now();
    const qb = newestFirstPage(this.folderQuery(viewerId, hidden, now), 'r', page);
    const [rows, totalCount] = await Promise.all([recipientPage(qb), this.folderQuery(viewerId, hidden, now).getCount()]);
    return { ...toConnection(rows, page, createdAtCursor), totalCount };
  }

  private folderQuery(viewerId: string, hidden: boolean, now: Date) {
    return this.dataSource
      .getRepository(MessageRequest)
      .createQueryBuilder('r')
      .where(`r.recipient_id = :viewerId AND r.hidden = :hidden AND r.status = 'PENDING' AND r.deleted_at IS NULL AND r.expires_at > :now`, {
        viewerId,
        hidden,
        now,
      });
  }

  /** The sender's own requests, newest first, as PENDING / ACCEPTED / EXPIRED / WITHDRAWN. */
  async sent(viewerId: string, args: ConnectionArgs) {
    const page = pageRequest(args, 2);
    const qb = newestFirstPage(
      this.dataSource.getRepository(MessageRequest).createQueryBuilder('r').where('r.sender_id = :viewerId', { viewerId }),
      'r',
      page,
    );
    const [rows, totalCount] = await Promise.all([qb.getMany(), this.dataSource.getRepository(MessageRequest).countBy({ senderId: viewerId })]);
    return { ...toConnection(rows, page, createdAtCursor), totalCount };
  }

  /** Visible to its two parties only; to the recipient only until deleted. */
  async visibleTo(viewerId: string, id: string): Promise<MessageRequest> {
    const request = isUuid(id) ? await this.dataSource.getRepository(MessageRequest).findOneBy({ id }) : null;
    if (!request || !canSeeRequest(request, viewerId, this.clock.now())) throw notFound('Message request not found');
    return request;
  }

  async byIds(ids: readonly string[]): Promise<MessageRequest[]> {
    const valid = ids.filter(isUuid);
    return valid.length ? this.dataSource.getRepository(MessageRequest).createQueryBuilder('r').where('r.id = ANY(:ids)', { ids: valid }).getMany() : [];
  }

  // ---- helpers -------------------------------------------------------------------------

  /**
   * Locks the pair, then the request row; anyone but `role` gets NOT_FOUND or FORBIDDEN.
   * `agedOut`: the recipient may also act on a request that aged out (delete does).
   */
  private async lockForAction(tx: Tx, viewerId: string, id: string, role: 'sender' | 'recipient', agedOut = false): Promise<MessageRequest> {
    const peek = isUuid(id) ? await tx.manager.findOneBy(MessageRequest, { id }) : null;
    const now = this.clock.now();
    if (!peek || !(canSeeRequest(peek, viewerId, now) || (agedOut && isAgedOutFor(peek, viewerId, now)))) throw notFound('Message request not found');
    await lockPair(tx, peek.senderId, peek.recipientId);
    const request = await tx.manager
      .createQueryBuilder(MessageRequest, 'r')
      .setLock('pessimistic_write')
      .where('r.id = :id', { id })
      .getOne();
    if (!request) throw notFound('Message request not found');
    const mine = role === 'sender' ? request.senderId === viewerId : request.recipientId === viewerId;
    if (!mine) {
      throw new AppError('FORBIDDEN', role === 'sender' ? 'Only the sender can do this' : 'Only the recipient can do this');
    }
    return request;
  }

  private async bulk(ids: string[], act: (id: string) => Promise<unknown>) {
    if (ids.length === 0 || ids.length > MAX_BULK) throw badInput(`Pass 1–${MAX_BULK} ids`, 'ids');
    const unique = [...new Set(ids)];
    const succeeded: string[] = [];
    const missing: string[] = [];
    // One at a time, each in its own transaction: a request that fails leaves the rest done.
    for (const id of unique) {
      try {
        await act(id);
        succeeded.push(id);
      } catch (err) {
        if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN')) missing.push(id);
        else throw err;
      }
    }
    return { succeeded, notFound: missing };
  }
}
