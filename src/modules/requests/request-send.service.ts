import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { lockPair } from '../../db/pair-lock';
import { pipelined } from '../../db/pipeline';
import { prepared, preparedRow } from '../../db/prepared';
import { runInTransaction, isUniqueViolation, type Tx } from '../../db/transaction';
import { AppError, badInput } from '../../graphql/errors';
import { DAY_MS, type Clock } from '../../lib/clock';
import { matchesHiddenWords } from '../../lib/hidden-words';
import { INVALID_CLIENT_MESSAGE_ID, isUuid, isValidClientMessageId } from '../../lib/ids';
import type { Config } from '../../config';
import type { ConversationsService } from '../conversations/conversations.service';
import type { MessagesService } from '../messages/messages.service';
import { EventType, type EventsService } from '../notifications/events.service';
import { NotificationType } from '../notifications/notification.entity';
import type { NotificationsService } from '../notifications/notifications.service';
import { factsOf, gatherFactsFor, readFacts, type PairState, type RecipientHiddenWords } from './send-facts';
import { evaluateEligibility, type DirectMessagePolicy, type Eligibility, type EligibilityInput } from './eligibility';
import { hiddenReasonFor } from './hidden-reason';
import { syncIntroVisibility } from './intro-visibility';
import { MessageRequest, StoredRequestStatus } from './message-request.entity';
import type { RequestsService } from './requests.service';
import type { SendMessageRequestInput } from './requests.types';

const keyReused = () => new AppError('IDEMPOTENCY_KEY_REUSED', 'This clientMessageId was already used for a different request');

/**
 * Sending a request (SPEC §2 and §3): the rules over one facts statement, then one of
 * three paths — a pending request, a crossing that accepts the recipient's own request,
 * or a direct send to someone who follows the sender — and the Message button and the
 * daily quota, which read the same facts. The recipient's and sender's later actions are
 * RequestsService's.
 */
export class RequestSendService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly conversations: ConversationsService,
    private readonly messages: MessagesService,
    private readonly notifications: NotificationsService,
    private readonly events: EventsService,
    private readonly lifecycle: RequestsService,
  ) {}

  async send(senderId: string, input: SendMessageRequestInput): Promise<MessageRequest> {
    const clientMessageId = input.clientMessageId ?? null;
    if (clientMessageId !== null && !isValidClientMessageId(clientMessageId)) throw badInput(INVALID_CLIENT_MESSAGE_ID, 'clientMessageId');
    const recipientId = isUuid(input.recipientId) ? input.recipientId.toLowerCase() : null;

    try {
      return await runInTransaction(this.dataSource, async (tx) => {
        const now = this.clock.now();
        // One round trip for the three; PostgreSQL runs them in this order. Every send by
        // this account queues on the first: the rolling daily count is exact even when one
        // account fires many sends at once. What stands between the two is read under the
        // pair's lock (accept, delete and blockUser take it too), by a statement that
        // starts once both locks are held, so it sees whatever committed before. Locking
        // a pair whose recipient (or sender) does not exist is harmless.
        const [sender, , [row]] = await pipelined(tx.manager, () => [
          preparedRow<{ id: string; birth_date: string; created_at: Date; dm_policy: DirectMessagePolicy }>(
            tx.manager,
            'requests.lock-sender',
            'SELECT id, birth_date, created_at, dm_policy FROM users WHERE id = $1 FOR UPDATE',
            [senderId],
          ),
          recipientId && recipientId !== senderId ? lockPair(tx, senderId, recipientId) : null,
          readFacts(tx.manager, senderId, [recipientId], now, true, clientMessageId),
        ]);
        if (!sender) throw new AppError('UNAUTHENTICATED', 'Sign in to send messages');
        const facts = factsOf(row, { id: senderId, birthDate: sender.birth_date, policy: sender.dm_policy }, this.config.requests.dailyLimit, now, input.text);
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
          await this.lifecycle.acceptInTx(tx, theirs, now);
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
    const conversationId = pair.conversationId ?? randomUUID();
    const introId = randomUUID();
    const hiddenWordMatch = matchesHiddenWords(text, hiddenWords.phrases, hiddenWords.builtIn);
    const hiddenReason = hiddenReasonFor({ now, senderCreatedAt, newAccountHours: this.config.requests.newAccountHours, text, hiddenWordMatch });
    const hidden = hiddenReason !== null;
    // After a delete the sender may withdraw and send again: the new request is pending for
    // the sender as any other, but it arrives already deleted (SPEC §8).
    const silenced = pair.silenced;
    const request = Object.assign(new MessageRequest(), {
      id: randomUUID(),
      senderId,
      recipientId,
      conversationId,
      messageId: introId,
      text,
      status: StoredRequestStatus.PENDING,
      hidden,
      hiddenReason,
      clientMessageId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.requests.ttlDays * DAY_MS),
      acceptedAt: null,
      deletedAt: silenced ? now : null,
    });
    const announced = !hidden && !silenced;
    if (announced) {
      this.events.emit(tx, recipientId, EventType.MESSAGE_REQUEST_RECEIVED, { requestId: request.id });
      // About the conversation: none when the recipient muted it (muted requests count in no badge).
      this.events.emit(tx, recipientId, EventType.INBOX_BADGE_CHANGED, { conversationId });
    }
    // Every write in one round trip (the ids are made here), in the order each needs.
    await pipelined(tx.manager, () => [
      pair.conversationId ? null : this.conversations.createForPair(tx, senderId, recipientId, now, conversationId),
      this.messages.appendInTx(tx, { conversationId, senderId, text, clientMessageId: null, now }, introId),
      prepared(
        tx.manager,
        'requests.insert',
        `INSERT INTO message_requests (id, sender_id, recipient_id, conversation_id, message_id, text, status, hidden, hidden_reason, client_message_id, created_at, expires_at, deleted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [request.id, senderId, recipientId, conversationId, introId, text, request.status, hidden, hiddenReason, clientMessageId, now, request.expiresAt, request.deletedAt],
      ),
      // A reused conversation holds earlier intros: only what the recipient may see shows.
      pair.conversationId ? syncIntroVisibility(tx, senderId, recipientId, now) : null,
      announced
        ? this.notifications.notifyInTx(tx, {
            userId: recipientId,
            type: NotificationType.MESSAGE_REQUEST_RECEIVED,
            actorId: senderId,
            requestId: request.id,
            conversationId,
          })
        : null,
      announced ? this.events.writeNow(tx) : null,
    ]);
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
    const facts = await gatherFactsFor(this.dataSource.manager, this.config.requests.dailyLimit, sender, recipientIds, now);
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
