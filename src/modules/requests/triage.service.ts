import type { DataSource } from 'typeorm';
import { lockPair } from '../../db/pair-lock';
import { runInTransaction } from '../../db/transaction';
import { notFound } from '../../graphql/errors';
import { createdAtCursor, newestFirstPage, pageRequest, toConnection, type ConnectionArgs } from '../../graphql/pagination';
import type { Clock } from '../../lib/clock';
import { isUuid } from '../../lib/ids';
import { EventType, type EventsService } from '../notifications/events.service';
import type { RelationshipsService } from '../relationships/relationships.service';
import { MessageRequest } from './message-request.entity';
import { isRestorable } from './request-visibility';
import { syncIntroVisibility } from './intro-visibility';
import { recipientPage } from './recipient-page';

/**
 * The recipient's side of triage beyond accept and delete (SPEC §8): recently deleted
 * requests and restoring one. Nothing here reaches the sender: no event, no notification,
 * no change to any field the sender reads.
 */
export class RequestTriageService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly relationships: RelationshipsService,
    private readonly events: EventsService,
  ) {}

  /**
   * Recently deleted: isRestorable in SQL, newest first like the folder it returns to. A
   * request between accounts with a block either way is left out (a block also puts the
   * request away, and it must not come back while the block stands).
   */
  async deleted(viewerId: string, args: ConnectionArgs) {
    const page = pageRequest(args, 2);
    const now = this.clock.now();
    const qb = newestFirstPage(this.deletedQuery(viewerId, now), 'r', page);
    const [rows, totalCount] = await Promise.all([recipientPage(qb), this.deletedQuery(viewerId, now).getCount()]);
    return { ...toConnection(rows, page, createdAtCursor), totalCount };
  }

  private deletedQuery(viewerId: string, now: Date) {
    return this.dataSource
      .getRepository(MessageRequest)
      .createQueryBuilder('r')
      .where(`r.recipient_id = :viewerId AND r.status = 'PENDING' AND r.deleted_at IS NOT NULL AND r.expires_at > :now`, { viewerId, now })
      .andWhere(
        `NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = r.recipient_id AND b.blocked_id = r.sender_id)
                                              OR (b.blocker_id = r.sender_id AND b.blocked_id = r.recipient_id))`,
      );
  }

  /**
   * Puts a deleted request back where it was (the folder or hidden requests, by its stored
   * `hidden`), under the pair's lock like every other request action. Anyone but the
   * recipient, an id that is not deleted, aged out or blocked: NOT_FOUND, the same answer
   * whatever the reason, so the sender cannot probe for a delete.
   */
  async restore(viewerId: string, id: string): Promise<MessageRequest> {
    return runInTransaction(this.dataSource, async (tx) => {
      const missing = () => notFound('Message request not found');
      const peek = isUuid(id) ? await tx.manager.findOneBy(MessageRequest, { id }) : null;
      if (!peek || !isRestorable(peek, viewerId, this.clock.now())) throw missing();
      await lockPair(tx, peek.senderId, peek.recipientId);
      const request = await tx.manager.createQueryBuilder(MessageRequest, 'r').setLock('pessimistic_write').where('r.id = :id', { id }).getOne();
      // Read again under the lock: an accept, a withdraw or a block may have got there first.
      if (!request || !isRestorable(request, viewerId, this.clock.now())) throw missing();
      const rel = await this.relationships.betweenOne(viewerId, request.senderId, tx.manager);
      if (rel.aBlocksB || rel.bBlocksA) throw missing();
      await tx.manager.update(MessageRequest, { id: request.id }, { deletedAt: null });
      // Its intro shows again in the pair's conversation (it was hidden with the delete).
      await syncIntroVisibility(tx, request.senderId, request.recipientId, this.clock.now());
      // Back in pendingRequestCount (hidden ones are not counted). Its notification stays
      // read: the recipient put it back on purpose, so nothing new calls for attention.
      if (!request.hidden) this.events.emit(tx, viewerId, EventType.INBOX_BADGE_CHANGED, {});
      return { ...request, deletedAt: null };
    });
  }
}
