import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { lockPair } from '../../db/pair-lock';
import { prepared, preparedRow } from '../../db/prepared';
import { runInTransaction, isUniqueViolation, type Tx } from '../../db/transaction';
import { AppError, badInput, notFound } from '../../graphql/errors';
import { createdAtCursor, newestFirstPage, pageRequest, toConnection, type ConnectionArgs } from '../../graphql/pagination';
import { DAY_MS, type Clock } from '../../lib/clock';
import { matchesHiddenWords } from '../../lib/hidden-words';
import { INVALID_CLIENT_MESSAGE_ID, isUuid, isValidClientMessageId } from '../../lib/ids';
import type { Config } from '../../config';
import type { ConversationsService } from '../conversations/conversations.service';
import { ConversationStatus } from '../conversations/conversation.entity';
import type { IntroChange } from '../messages/message-actions.service';
import type { MessagesService } from '../messages/messages.service';
import { activeBanJoinSql } from '../moderation/bans.service';
import { EventType, type EventsService } from '../notifications/events.service';
import { NotificationType } from '../notifications/notification.entity';
import type { NotificationsService } from '../notifications/notifications.service';
import type { RelationshipsService } from '../relationships/relationships.service';
import { evaluateEligibility, isHiddenRequest, type DirectMessagePolicy, type Eligibility, type EligibilityInput } from './eligibility';
import { syncIntroVisibility } from './intro-visibility';
import { MessageRequest, StoredRequestStatus } from './message-request.entity';
import { canSeeRequest, isActionable, isAgedOutFor } from './request-visibility';
import type { SendMessageRequestInput } from './requests.types';

export const MAX_BULK = 100;

const keyReused = () => new AppError('IDEMPOTENCY_KEY_REUSED', 'This clientMessageId was already used for a different request');

/** The sender as the rules read it (EligibilityInput['sender']). */
type FactsSender = { id: string; birthDate: string; policy: DirectMessagePolicy };

/** What a request looks like between two accounts, as the rules need it. */
interface PairState {
  /** The pair's conversation in any state (a request before this one leaves it behind). */
  conversationId: string | null;
  openConversationId: string | null;
  /** A live pending request from the sender. */
  pendingFromSender: boolean;
  /** A pending request from the sender past its expiry, still holding the pair's slot. */
  expiredFromSender: boolean;
  /**
   * The recipient's live pending request to the sender, deleted by the sender or not:
   * what the recipient sees never depends on a delete (SPEC §2), so a send crosses it.
   */
  pendingFromRecipientId: string | null;
  /**
   * The recipient deleted a request of the sender's that has not yet aged out: a new
   * request is accepted for the sender but stays out of the recipient's folder (SPEC §8).
   */
  silenced: boolean;
}

interface SendFactsRow {
  recipient_id: string | null;
  recipient_birth_date: string | null;
  recipient_policy: 'EVERYONE' | 'FOLLOWING' | 'NOBODY' | null;
  recipient_verified: boolean | null;
  a_follows_b: boolean;
  b_follows_a: boolean;
  a_blocks_b: boolean;
  b_blocks_a: boolean;
  banned: boolean;
  ban_until: Date | null;
  conversation_id: string | null;
  conversation_status: ConversationStatus | null;
  pending_from_sender: boolean;
  expired_from_sender: boolean;
  pending_from_recipient_id: string | null;
  silenced: boolean;
  sent_in_window: number;
  oldest_in_window: Date | null;
  repeated: boolean;
  /** Null unless the text is checked ($6), or when the list is empty. */
  recipient_hidden_words: string[] | null;
  recipient_hides_offensive: boolean | null;
}

/** The recipient's hidden words (SPEC §8), read with the send's facts. */
interface RecipientHiddenWords {
  phrases: string[];
  builtIn: boolean;
}

/**
 * The facts of SPEC §2 for sender $1 and each recipient of $2 (an array, answered in its
 * order: a send asks about one account, a page of Message buttons about each profile on
 * it) at time $3 ($4 = a day earlier; $5 = the clientMessageId, if any; $6 = whether a
 * text will be checked against the recipient's hidden words) in one round
 * trip: a request is the busiest write after a message and runs under two locks, so
 * every statement there is time others wait. Each line is the question the
 * relationships, bans, conversations and requests code would ask on its own; the
 * indexes serve each one.
 */
const SEND_FACTS = `
  SELECT r.id AS recipient_id, r.birth_date AS recipient_birth_date, r.dm_policy AS recipient_policy, r.verified AS recipient_verified,
         EXISTS (SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = r.id) AS a_follows_b,
         EXISTS (SELECT 1 FROM follows WHERE follower_id = r.id AND followee_id = $1) AS b_follows_a,
         EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = r.id) AS a_blocks_b,
         EXISTS (SELECT 1 FROM blocks WHERE blocker_id = r.id AND blocked_id = $1) AS b_blocks_a,
         ban.banned IS NOT NULL AS banned, ban.until AS ban_until,
         c.id AS conversation_id, c.status AS conversation_status,
         EXISTS (SELECT 1 FROM message_requests
                  WHERE sender_id = $1 AND recipient_id = r.id AND status = 'PENDING' AND expires_at > $3) AS pending_from_sender,
         EXISTS (SELECT 1 FROM message_requests
                  WHERE sender_id = $1 AND recipient_id = r.id AND status = 'PENDING' AND expires_at <= $3) AS expired_from_sender,
         (SELECT id FROM message_requests
           WHERE sender_id = r.id AND recipient_id = $1 AND status = 'PENDING' AND expires_at > $3
           LIMIT 1) AS pending_from_recipient_id,
         EXISTS (SELECT 1 FROM message_requests
                  WHERE sender_id = $1 AND recipient_id = r.id AND deleted_at IS NOT NULL AND status <> 'ACCEPTED' AND expires_at > $3) AS silenced,
         w.sent AS sent_in_window, w.oldest AS oldest_in_window,
         ($5::text IS NOT NULL AND (EXISTS (SELECT 1 FROM message_requests WHERE sender_id = $1 AND client_message_id = $5)
                                    OR EXISTS (SELECT 1 FROM messages WHERE sender_id = $1 AND client_message_id = $5))) AS repeated,
         CASE WHEN $6::boolean THEN (SELECT array_agg(normalised) FROM hidden_words WHERE user_id = r.id) END AS recipient_hidden_words,
         r.hide_offensive_requests AS recipient_hides_offensive
    FROM unnest($2::uuid[]) WITH ORDINALITY AS wanted(id, i)
    LEFT JOIN users r ON r.id = wanted.id
    LEFT JOIN conversations c ON c.user_low_id = LEAST($1::uuid, r.id) AND c.user_high_id = GREATEST($1::uuid, r.id)
    ${activeBanJoinSql('$1', '$3')}
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS sent, min(created_at) AS oldest FROM message_requests WHERE sender_id = $1 AND created_at > $4
    ) w
   ORDER BY wanted.i`;

export class RequestsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly relationships: RelationshipsService,
    private readonly conversations: ConversationsService,
    private readonly messages: MessagesService,
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
      const [withdrawn]: [Array<{ id: string }>, number] = await tx.manager.query(
        `UPDATE message_requests SET status = 'WITHDRAWN' WHERE sender_id = $1 AND recipient_id = $2 AND status = 'PENDING' RETURNING id`,
        [blockerId, blockedId],
      );
      for (const r of withdrawn) await this.notifications.removeForRequestInTx(tx, r.id);
      this.events.emit(tx, blockerId, EventType.INBOX_BADGE_CHANGED, {});
    });
  }

  // ---- sending -------------------------------------------------------------------------

  async send(senderId: string, input: SendMessageRequestInput): Promise<MessageRequest> {
    const clientMessageId = input.clientMessageId ?? null;
    if (clientMessageId !== null && !isValidClientMessageId(clientMessageId)) throw badInput(INVALID_CLIENT_MESSAGE_ID, 'clientMessageId');
    const recipientId = isUuid(input.recipientId) ? input.recipientId.toLowerCase() : null;

    try {
      return await runInTransaction(this.dataSource, async (tx) => {
        const now = this.clock.now();
        // Every send by this account queues here: the rolling daily count is exact even
        // when one account fires many sends at once.
        const sender = await preparedRow<{ id: string; birth_date: string; created_at: Date; dm_policy: DirectMessagePolicy }>(
          tx.manager,
          'requests.lock-sender',
          'SELECT id, birth_date, created_at, dm_policy FROM users WHERE id = $1 FOR UPDATE',
          [senderId],
        );
        if (!sender) throw new AppError('UNAUTHENTICATED', 'Sign in to send messages');
        // What stands between the two is read under the pair's lock (accept, delete and
        // blockUser take it too). Locking a pair whose recipient does not exist is harmless.
        if (recipientId && recipientId !== senderId) await lockPair(tx, senderId, recipientId);
        const facts = await this.gatherFacts(
          tx.manager,
          { id: senderId, birthDate: sender.birth_date, policy: sender.dm_policy },
          recipientId,
          now,
          input.text,
          clientMessageId,
        );
        // A repeat is the answer to the original send, whatever changed since.
        if (facts.repeated) {
          const again = await this.replay(senderId, clientMessageId!, input, tx.manager);
          if (again) return again;
        }
        const verdict = evaluateEligibility(facts.input);
        if (!verdict.allowed) throw new AppError(verdict.code, verdict.message, verdict.extensions);

        const recipient = facts.input.recipient!.id;
        if (verdict.path === 'CROSSING') {
          // They already asked us: accept their request (also one we deleted: what they see
          // never depends on our delete) and say our piece in the conversation.
          const theirs = await tx.manager.findOneByOrFail(MessageRequest, { id: facts.pair.pendingFromRecipientId! });
          await this.acceptInTx(tx, theirs, now);
          // The text is posted under the send's key, so a retry finds it (see replay).
          await this.messages.postInTx(tx, { conversationId: theirs.conversationId, senderId, text: input.text, clientMessageId, now }, theirs.senderId);
          return { ...theirs, status: StoredRequestStatus.ACCEPTED, acceptedAt: now, deletedAt: null };
        }
        if (verdict.path === 'DIRECT') return this.openDirect(tx, senderId, recipient, facts.pair, input.text, clientMessageId, now);
        return this.createRequest(tx, senderId, recipient, facts.pair, input.text, clientMessageId, new Date(sender.created_at), now, facts.hiddenWords);
      });
    } catch (err) {
      // Two sends with the same key raced past the replay check: the loser replays.
      if (clientMessageId && (isUniqueViolation(err, 'message_requests_sender_client_id_key') || isUniqueViolation(err, 'messages_sender_client_id_key'))) {
        const replayed = await this.replay(senderId, clientMessageId, input, this.dataSource.manager);
        if (replayed) return replayed;
      }
      if (isUniqueViolation(err, 'message_requests_one_pending_per_pair')) {
        throw new AppError('REQUEST_ALREADY_PENDING', 'You already have a pending request to this user');
      }
      throw err;
    }
  }

  /**
   * Same key and same content: the earlier answer. Same key, other content: refused. A
   * send that accepted the recipient's own request (crossing) left no request of its own:
   * its text was posted under the key, at the moment their request was accepted, and the
   * answer was their request.
   */
  private async replay(senderId: string, key: string, input: SendMessageRequestInput, manager: EntityManager): Promise<MessageRequest | null> {
    // Ids compare as PostgreSQL does: a retry may spell the same uuid in capitals.
    const recipientId = input.recipientId.toLowerCase();
    const existing = await manager.findOneBy(MessageRequest, { senderId, clientMessageId: key });
    if (existing) {
      if (existing.recipientId !== recipientId || existing.text !== input.text) throw keyReused();
      return existing;
    }
    const posted = await this.messages.byClientKey(senderId, key, manager);
    if (!posted) return null;
    const theirs = await manager.findOneBy(MessageRequest, {
      conversationId: posted.conversationId,
      senderId: recipientId,
      recipientId: senderId,
      status: StoredRequestStatus.ACCEPTED,
    });
    if (!theirs || theirs.acceptedAt?.getTime() !== posted.createdAt.getTime() || posted.text !== input.text) throw keyReused();
    return theirs;
  }

  private async createRequest(
    tx: Tx,
    senderId: string,
    recipientId: string,
    pair: PairState,
    text: string,
    clientMessageId: string | null,
    senderCreatedAt: Date,
    now: Date,
    hiddenWords: RecipientHiddenWords,
  ) {
    if (pair.expiredFromSender) {
      // An earlier request that aged out still holds the one-pending-per-pair slot: free it.
      await tx.manager.query(
        `UPDATE message_requests SET status = 'EXPIRED' WHERE sender_id = $1 AND recipient_id = $2 AND status = 'PENDING' AND expires_at <= $3`,
        [senderId, recipientId, now],
      );
    }
    // An earlier request (deleted, withdrawn, aged out) left the pair its conversation.
    const conversationId = pair.conversationId ?? (await this.conversations.createForPair(tx, senderId, recipientId, now));
    const intro = await this.messages.appendInTx(tx, { conversationId, senderId, text, clientMessageId: null, now });
    const hiddenWordMatch = matchesHiddenWords(text, hiddenWords.phrases, hiddenWords.builtIn);
    const hidden = isHiddenRequest({ now, senderCreatedAt, newAccountHours: this.config.requests.newAccountHours, text }) || hiddenWordMatch;
    // After a delete the sender may withdraw and send again: the new request is pending for
    // the sender as any other, but it arrives already deleted (SPEC §8).
    const silenced = pair.silenced;
    const request = Object.assign(new MessageRequest(), {
      id: randomUUID(),
      senderId,
      recipientId,
      conversationId,
      messageId: intro.id,
      text,
      status: StoredRequestStatus.PENDING,
      hidden,
      clientMessageId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.requests.ttlDays * DAY_MS),
      acceptedAt: null,
      deletedAt: silenced ? now : null,
    });
    await prepared(
      tx.manager,
      'requests.insert',
      `INSERT INTO message_requests (id, sender_id, recipient_id, conversation_id, message_id, text, status, hidden, client_message_id, created_at, expires_at, deleted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [request.id, senderId, recipientId, conversationId, intro.id, text, request.status, hidden, clientMessageId, now, request.expiresAt, request.deletedAt],
    );
    // A reused conversation holds earlier intros: only what the recipient may see shows.
    if (pair.conversationId) await syncIntroVisibility(tx, senderId, recipientId, now);
    if (!hidden && !silenced) {
      await this.notifications.notifyInTx(tx, {
        userId: recipientId,
        type: NotificationType.MESSAGE_REQUEST_RECEIVED,
        actorId: senderId,
        requestId: request.id,
        conversationId,
      });
      this.events.emit(tx, recipientId, EventType.MESSAGE_REQUEST_RECEIVED, { requestId: request.id });
      this.events.emit(tx, recipientId, EventType.INBOX_BADGE_CHANGED, {});
    }
    return request;
  }

  /**
   * The recipient follows the sender: the send opens the conversation at once and its text
   * arrives in the recipient's inbox as a message (messageReceived, unread badge), never in
   * the Requests folder. The answer is a request row, ACCEPTED, so clients and retries
   * (clientMessageId) read it as any accepted request. A request of the sender's still
   * pending is answered by the open conversation: accepted (or aged out if it had); one the
   * recipient deleted stays deleted, its intro hidden from the recipient.
   */
  private async openDirect(
    tx: Tx,
    senderId: string,
    recipientId: string,
    pair: PairState,
    text: string,
    clientMessageId: string | null,
    now: Date,
  ): Promise<MessageRequest> {
    const conversationId = pair.conversationId ?? (await this.conversations.createForPair(tx, senderId, recipientId, now));
    if (pair.pendingFromSender || pair.expiredFromSender) {
      const [taken]: [Array<{ id: string }>, number] = await tx.manager.query(
        `UPDATE message_requests
            SET status = CASE WHEN expires_at > $3 THEN 'ACCEPTED' ELSE 'EXPIRED' END,
                accepted_at = CASE WHEN expires_at > $3 THEN $3::timestamptz END
          WHERE sender_id = $1 AND recipient_id = $2 AND status = 'PENDING' RETURNING id`,
        [senderId, recipientId, now],
      );
      await this.notifications.markRequestsReadInTx(tx, recipientId, taken.map((r) => r.id), now);
    }
    await this.conversations.openInTx(tx, conversationId, now);
    if (pair.conversationId) await syncIntroVisibility(tx, senderId, recipientId, now);
    // Posted with its events (to both, and the recipient's badge): the last write to emit.
    const message = await this.messages.postInTx(tx, { conversationId, senderId, text, clientMessageId: null, now }, recipientId);
    const request = Object.assign(new MessageRequest(), {
      id: randomUUID(),
      senderId,
      recipientId,
      conversationId,
      messageId: message.id,
      text,
      status: StoredRequestStatus.ACCEPTED,
      hidden: false,
      clientMessageId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.requests.ttlDays * DAY_MS),
      acceptedAt: now,
      deletedAt: null,
    });
    await prepared(
      tx.manager,
      'requests.insert-accepted',
      `INSERT INTO message_requests (id, sender_id, recipient_id, conversation_id, message_id, text, status, hidden, client_message_id, created_at, expires_at, accepted_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'ACCEPTED', false, $7, $8, $9, $8)`,
      [request.id, senderId, recipientId, conversationId, message.id, text, clientMessageId, now, request.expiresAt],
    );
    return request;
  }

  /**
   * Everything the rules look at, in one statement (SEND_FACTS), read in the caller's
   * transaction or outside one for the Message button. `recipientId` is null when the
   * argument is not an id at all.
   */
  private async gatherFacts(
    manager: EntityManager,
    sender: FactsSender,
    recipientId: string | null,
    now: Date,
    text?: string,
    clientMessageId: string | null = null,
  ): Promise<{ input: EligibilityInput; pair: PairState; repeated: boolean; hiddenWords: RecipientHiddenWords }> {
    const [facts] = await this.gatherFactsFor(manager, sender, [recipientId], now, text, clientMessageId);
    return facts;
  }

  /** gatherFacts for each of `recipientIds`, in their order, still in one statement. */
  private async gatherFactsFor(
    manager: EntityManager,
    sender: FactsSender,
    recipientIds: ReadonlyArray<string | null>,
    now: Date,
    text?: string,
    clientMessageId: string | null = null,
  ): Promise<Array<{ input: EligibilityInput; pair: PairState; repeated: boolean; hiddenWords: RecipientHiddenWords }>> {
    const params = [sender.id, recipientIds, now, new Date(now.getTime() - DAY_MS), clientMessageId, text !== undefined];
    const { rows } = await prepared<SendFactsRow>(manager, 'requests.send-facts', SEND_FACTS, params);
    return rows.map((f) => {
      const pair: PairState = {
        conversationId: f.conversation_id,
        openConversationId: f.conversation_status === ConversationStatus.OPEN ? f.conversation_id : null,
        pendingFromSender: f.pending_from_sender,
        expiredFromSender: f.expired_from_sender,
        pendingFromRecipientId: f.pending_from_recipient_id,
        silenced: f.silenced,
      };
      return {
        pair,
        repeated: f.repeated,
        hiddenWords: { phrases: f.recipient_hidden_words ?? [], builtIn: f.recipient_hides_offensive ?? false },
        input: {
          now,
          sender,
          recipient: f.recipient_id === null ? null : { id: f.recipient_id, birthDate: f.recipient_birth_date!, policy: f.recipient_policy!, verified: f.recipient_verified! },
          senderBan: f.banned ? { until: f.ban_until } : null,
          relationship: { aFollowsB: f.a_follows_b, bFollowsA: f.b_follows_a, aBlocksB: f.a_blocks_b, bBlocksA: f.b_blocks_a },
          openConversationId: pair.openConversationId,
          pendingFromSender: pair.pendingFromSender,
          pendingFromRecipient: pair.pendingFromRecipientId !== null,
          sentInWindow: f.sent_in_window,
          oldestInWindowAt: f.oldest_in_window,
          dailyLimit: this.config.requests.dailyLimit,
          text,
        },
      };
    });
  }

  private async sentInWindow(manager: EntityManager, senderId: string, now: Date): Promise<{ count: number; oldest: Date | null }> {
    const [row] = await manager.query(
      `SELECT count(*)::int AS count, min(created_at) AS oldest FROM message_requests WHERE sender_id = $1 AND created_at > $2`,
      [senderId, new Date(now.getTime() - DAY_MS)],
    );
    return { count: row.count, oldest: row.oldest ? new Date(row.oldest) : null };
  }

  /**
   * The same evaluation a send makes, without text, of `viewer` (null: signed out) writing
   * to each of `recipientIds`: drives User.messageButton, so the button never says yes where
   * the send says no. One statement however many profiles a page shows (the loader batches
   * them).
   */
  async eligibilityFor(
    viewer: { id: string; birthDate: string; directMessagePolicy: DirectMessagePolicy } | null,
    recipientIds: readonly string[],
  ): Promise<Array<{ result: Eligibility; openConversationId: string | null }>> {
    const now = this.clock.now();
    if (!viewer) {
      const signedOut = evaluateEligibility({ ...emptyFacts(now, this.config.requests.dailyLimit), sender: null, recipient: null });
      return recipientIds.map(() => ({ result: signedOut, openConversationId: null }));
    }
    const sender = { id: viewer.id, birthDate: viewer.birthDate, policy: viewer.directMessagePolicy };
    const facts = await this.gatherFactsFor(this.dataSource.manager, sender, recipientIds, now);
    return facts.map(({ input }) => ({ result: evaluateEligibility(input), openConversationId: input.openConversationId }));
  }

  async quota(viewerId: string) {
    const now = this.clock.now();
    const { count, oldest } = await this.sentInWindow(this.dataSource.manager, viewerId, now);
    const limit = this.config.requests.dailyLimit;
    return {
      limit,
      used: count,
      remaining: Math.max(0, limit - count),
      resetsAt: oldest ? new Date(oldest.getTime() + DAY_MS) : null,
    };
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

  private async acceptInTx(tx: Tx, request: MessageRequest, now: Date): Promise<void> {
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
    const [rows, totalCount] = await Promise.all([qb.getMany(), this.folderQuery(viewerId, hidden, now).getCount()]);
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

  async pendingRequestCount(viewerId: string): Promise<number> {
    return this.folderQuery(viewerId, false, this.clock.now()).getCount();
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

function emptyFacts(now: Date, dailyLimit: number): EligibilityInput {
  return {
    now,
    sender: null,
    recipient: null,
    senderBan: null,
    relationship: { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: false },
    openConversationId: null,
    pendingFromSender: false,
    pendingFromRecipient: false,
    sentInWindow: 0,
    oldestInWindowAt: null,
    dailyLimit,
  };
}
