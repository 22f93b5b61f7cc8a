import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { SKIP } from '../../lib/async-iterable';
import { BoundedCache } from '../../lib/bounded-cache';
import { preparedOne, preparedRow } from '../../db/prepared';
import { isUniqueViolation, runInTransaction, type Tx } from '../../db/transaction';
import { AppError, badInput, notFound } from '../../graphql/errors';
import { pageRequest, toConnection, type Connection, type ConnectionArgs } from '../../graphql/pagination';
import type { Clock } from '../../lib/clock';
import type { UserEvent } from '../../graphql/pubsub';
import { INVALID_CLIENT_MESSAGE_ID, isUuid, isValidClientMessageId } from '../../lib/ids';
import { Conversation, ConversationStatus } from '../conversations/conversation.entity';
import { ConversationsService } from '../conversations/conversations.service';
import { EventType, type EventsService } from '../notifications/events.service';
import type { RelationshipsService } from '../relationships/relationships.service';
import { Message } from './message.entity';
import { evaluateSendMessage, receiptsAllowed, type SendMessageFacts } from './message-rules';

// A live event reaches its subscribers within milliseconds of the commit; past this it is
// a late delivery and reads the row (seen_at may have moved).
const JUST_POSTED_MS = 2_000;
const JUST_POSTED_MAX = 10_000;
const DEFAULT_HISTORY_PAGE = 20;

export interface AppendMessage {
  conversationId: string;
  senderId: string;
  text: string;
  clientMessageId: string | null;
  now: Date;
}

export interface SendMessage {
  conversationId: string;
  text: string;
  clientMessageId?: string | null;
}

/** Payloads of the event log carry ids only; subscribers re-read what they may see. */
export interface MessageReceivedPayload {
  conversationId: string;
  messageId: string;
  senderId: string;
}

export interface MessageSeenPayload {
  conversationId: string;
  readerId: string;
  upToMessageId: string;
  seenAt: string;
}

interface SendFactsRow {
  recipient_policy: SendMessageFacts['recipientPolicy'];
  ban_until: Date | null;
  banned: boolean;
  a_blocks_b: boolean;
  b_blocks_a: boolean;
  repeated: boolean;
}

interface SendFacts {
  recipientPolicy: SendMessageFacts['recipientPolicy'];
  senderBan: SendMessageFacts['senderBan'];
  relationship: SendMessageFacts['relationship'];
  /** The sender already used this clientMessageId. */
  repeated: boolean;
}

export interface MessagesDeps {
  clock: Clock;
  events: EventsService;
  conversations: ConversationsService;
  relationships: RelationshipsService;
}

/**
 * Messages: appending in the conversation's total order, sending with its rules, reading
 * history, seen receipts. Codes: NOT_FOUND, MESSAGING_BANNED, RECIPIENT_UNAVAILABLE,
 * REQUEST_PENDING, MESSAGING_DISABLED, IDEMPOTENCY_KEY_REUSED, BAD_USER_INPUT.
 */
export class MessagesService {
  /** Messages this instance posted in the last seconds, for their live delivery. */
  private readonly justPosted = new BoundedCache<string, Message>(JUST_POSTED_MAX, JUST_POSTED_MS);

  constructor(
    protected readonly dataSource: DataSource,
    private readonly deps: MessagesDeps,
  ) {}

  /**
   * Appends a message to an open conversation and announces it: MESSAGE_RECEIVED to the
   * recipient and to the sender (their other devices), and the recipient's badge. Every
   * path that adds a message to an open conversation goes through here.
   */
  async postInTx(tx: Tx, input: AppendMessage, recipientId: string): Promise<Message> {
    const message = await this.appendInTx(tx, input);
    // Registered before the events' own after-commit publish, so it is there when they land.
    tx.afterCommit(() => this.justPosted.set(message.id, message));
    const payload: MessageReceivedPayload = { conversationId: input.conversationId, messageId: message.id, senderId: input.senderId };
    this.deps.events.emit(tx, recipientId, EventType.MESSAGE_RECEIVED, { ...payload });
    this.deps.events.emit(tx, input.senderId, EventType.MESSAGE_RECEIVED, { ...payload });
    this.deps.events.emit(tx, recipientId, EventType.INBOX_BADGE_CHANGED, { conversationId: input.conversationId });
    return message;
  }

  /**
   * Appends a message inside the caller's transaction. Taking the next sequence number
   * updates (and so locks) the conversation row until commit: concurrent senders queue
   * there, and every reader sees one order. An open conversation comes back into both
   * members' inboxes (a deleted conversation returns with its history).
   */
  async appendInTx(tx: Tx, input: AppendMessage): Promise<Message> {
    const id = randomUUID();
    // One round trip: take the next seq (locking the conversation row until commit),
    // insert the message, point the conversation at it, and move both members' activity.
    // The CTEs share one snapshot, so the members update reads the status from `conv`.
    const row = await preparedRow<{ seq: string }>(
      tx.manager,
      'messages.append',
      `WITH conv AS (
         UPDATE conversations SET last_seq = last_seq + 1, last_message_at = $2, last_message_id = $3
          WHERE id = $1 RETURNING last_seq, status
       ), msg AS (
         INSERT INTO messages (id, conversation_id, seq, sender_id, text, client_message_id, created_at)
         SELECT $3, $1, conv.last_seq, $4, $5, $6, $2 FROM conv
         RETURNING seq
       ), members AS (
         UPDATE conversation_members m SET activity_at = $2, in_inbox = (conv.status = 'OPEN') OR m.in_inbox
           FROM conv WHERE m.conversation_id = $1
       )
       SELECT seq FROM msg`,
      [input.conversationId, input.now, id, input.senderId, input.text, input.clientMessageId],
    );
    if (!row) throw new Error(`conversation ${input.conversationId} not found while appending`);
    return Object.assign(new Message(), {
      id,
      conversationId: input.conversationId,
      seq: String(row.seq),
      senderId: input.senderId,
      text: input.text,
      clientMessageId: input.clientMessageId,
      createdAt: input.now,
      seenAt: null,
    });
  }


  /**
   * sendMessage. Refusals in this order: not readable → NOT_FOUND; banned sender →
   * MESSAGING_BANNED; a block either way → RECIPIENT_UNAVAILABLE; still a request →
   * REQUEST_PENDING; recipient's policy NOBODY → MESSAGING_DISABLED; then the text.
   * Following is not required once a conversation is open.
   *
   * Idempotent by clientMessageId: a repeat returns the first message and writes nothing
   * (also after a ban or block since: it is the answer to the original send). Parallel
   * repeats all reach the insert; the unique index lets exactly one in, the others re-read.
   *
   * MESSAGE_RECEIVED goes to the recipient and to the sender too, so the sender's other
   * devices show the message; INBOX_BADGE_CHANGED goes to the recipient.
   */
  async send(senderId: string, input: SendMessage): Promise<Message> {
    const key = input.clientMessageId ?? null;
    let conversationId = input.conversationId;
    try {
      return await runInTransaction(this.dataSource, async (tx) => {
        // The rules are read under the pair lock that blockUser also takes, so a block
        // (or a ban) that commits first is always seen: no message slips in after it.
        const conversation = await this.deps.conversations.requireReadableLockingPair(tx, senderId, input.conversationId);
        conversationId = conversation.id;
        if (key !== null && !isValidClientMessageId(key)) throw badInput(INVALID_CLIENT_MESSAGE_ID, 'clientMessageId');
        const recipientId = ConversationsService.otherParticipant(conversation, senderId);
        const facts = await this.sendFacts(tx.manager, senderId, recipientId, key);
        if (facts.repeated) {
          const replay = await this.replay(tx.manager, senderId, key!, conversation.id, input.text);
          if (replay) return replay;
        }
        const verdict = evaluateSendMessage({
          senderBan: facts.senderBan,
          relationship: facts.relationship,
          // Read as the lock was taken; an accept in between only makes this a refusal
          // that a retry turns into a send (a conversation never goes back from OPEN).
          conversationOpen: conversation.status === ConversationStatus.OPEN,
          recipientPolicy: facts.recipientPolicy,
          text: input.text,
        });
        if (!verdict.allowed) throw new AppError(verdict.code, verdict.message, verdict.extensions);
        const now = this.deps.clock.now();
        return this.postInTx(tx, { conversationId: conversation.id, senderId, text: input.text, clientMessageId: key, now }, recipientId);
      });
    } catch (err) {
      // Parallel repeats all pass the check above; the unique index lets one in.
      if (key !== null && isUniqueViolation(err, 'messages_sender_client_id_key')) {
        const replay = await this.replay(this.dataSource.manager, senderId, key, conversationId, input.text);
        if (replay) return replay;
      }
      throw err;
    }
  }

  /**
   * Everything the send rules need, in one round trip: sendMessage is the hottest write
   * and runs under the pair lock, so every statement there is time the pair waits. The
   * same facts the bans, relationships and users modules answer one by one elsewhere.
   */
  private async sendFacts(manager: EntityManager, senderId: string, recipientId: string, key: string | null): Promise<SendFacts> {
    const row = await preparedOne<SendFactsRow>(
      manager,
      'messages.send-facts',
      `SELECT (SELECT dm_policy FROM users WHERE id = $2) AS recipient_policy,
              ban.until AS ban_until, ban.banned IS NOT NULL AS banned,
              EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2) AS a_blocks_b,
              EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $2 AND blocked_id = $1) AS b_blocks_a,
              $4::text IS NOT NULL AND EXISTS (SELECT 1 FROM messages WHERE sender_id = $1 AND client_message_id = $4) AS repeated
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (
           SELECT until, true AS banned FROM messaging_bans
            WHERE user_id = $1 AND (until IS NULL OR until > $3)
            ORDER BY until DESC NULLS FIRST LIMIT 1
         ) ban ON true`,
      [senderId, recipientId, this.deps.clock.now(), key],
    );
    return {
      recipientPolicy: row.recipient_policy ?? null,
      senderBan: row.banned ? { until: row.ban_until ?? null } : null,
      relationship: { aBlocksB: row.a_blocks_b, bBlocksA: row.b_blocks_a },
      repeated: row.repeated,
    };
  }

  /** The message this sender posted under an idempotency key, if any. */
  byClientKey(senderId: string, key: string, manager: EntityManager = this.dataSource.manager): Promise<Message | null> {
    return manager.findOneBy(Message, { senderId, clientMessageId: key });
  }

  /** The message this sender already sent under `key`, if the repeat is the same send. */
  private async replay(manager: EntityManager, senderId: string, key: string, conversationId: string, text: string): Promise<Message | null> {
    const existing = await this.byClientKey(senderId, key, manager);
    if (!existing) return null;
    if (existing.conversationId !== conversationId || existing.text !== text) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This clientMessageId was already used for a different message');
    }
    return existing;
  }

  /**
   * markConversationSeen: moves the viewer's read pointer forward only (to the given
   * message, default the latest). Seen receipts — seen_at on the other party's messages
   * and MESSAGE_SEEN to them — exist only in an open conversation (no receipt before a
   * request is accepted) and never across a block either way; the pointer still moves so
   * the viewer's own unread counts are right. A message previewed while still a request
   * gets its receipt at the first mark after the accept. Marking backwards writes nothing.
   */
  async markSeen(viewerId: string, conversationId: string, upToMessageId?: string | null): Promise<Conversation> {
    return runInTransaction(this.dataSource, async (tx) => {
      // Under the pair lock blockUser also takes: a block that commits first is seen, so no
      // receipt crosses it.
      const conversation = await this.deps.conversations.requireReadableLockingPair(tx, viewerId, conversationId);
      const otherId = ConversationsService.otherParticipant(conversation, viewerId);
      const receipts = receiptsAllowed({
        conversationOpen: conversation.status === ConversationStatus.OPEN,
        relationship: await this.deps.relationships.betweenOne(viewerId, otherId, tx.manager),
      });
      if (upToMessageId != null && !isUuid(upToMessageId)) throw notFound('Message not found');
      const mark = await this.markInTx(tx.manager, { conversationId: conversation.id, viewerId, otherId, upToMessageId: upToMessageId ?? null, receipts, now: this.deps.clock.now() });
      if (!mark) {
        if (upToMessageId != null) throw notFound('Message not found');
        return conversation; // no messages yet
      }
      if (mark.moved) this.deps.events.emit(tx, viewerId, EventType.INBOX_BADGE_CHANGED, { conversationId: conversation.id });
      // A receipt only when some of the other party's messages became seen: passing only
      // one's own messages tells them nothing. Their delivery copies are now out of date.
      if (mark.seen.length > 0) {
        tx.afterCommit(() => {
          for (const id of mark.seen) this.justPosted.delete(id);
        });
        const payload: MessageSeenPayload = { conversationId: conversation.id, readerId: viewerId, upToMessageId: mark.targetId, seenAt: mark.now.toISOString() };
        this.deps.events.emit(tx, otherId, EventType.MESSAGE_SEEN, { ...payload });
      }
      return conversation;
    });
  }

  /** messages(conversationId): history for a reader of the conversation. */
  async history(viewerId: string, conversationId: string, args: ConnectionArgs): Promise<Connection<Message>> {
    const conversation = await this.deps.conversations.requireReadable(viewerId, conversationId);
    return this.page(conversation.id, args);
  }

  /**
   * One page of a conversation's messages in their total order (seq ascending), keyset on
   * seq over messages_conversation_seq_key. Without first or last, the newest page: that
   * is what a chat opens on; `last` + `before` then walks back through older messages.
   */
  async page(conversationId: string, args: ConnectionArgs): Promise<Connection<Message>> {
    const page = pageRequest(args.first == null && args.last == null ? { ...args, last: DEFAULT_HISTORY_PAGE } : args, 1);
    const cursor = page.cursor?.[0];
    if (cursor !== undefined && (typeof cursor !== 'string' || !/^\d{1,18}$/.test(cursor))) {
      throw badInput('Invalid cursor', page.forward ? 'after' : 'before');
    }
    const qb = this.dataSource
      .getRepository(Message)
      .createQueryBuilder('m')
      .where('m.conversationId = :conversationId', { conversationId })
      .orderBy('m.seq', page.forward ? 'ASC' : 'DESC')
      .limit(page.limit + 1);
    if (cursor !== undefined) qb.andWhere(`m.seq ${page.forward ? '>' : '<'} :cursor`, { cursor });
    const rows = await qb.getMany();
    return toConnection(rows, page, (m) => [String(m.seq)]);
  }

  /**
   * The message a live MESSAGE_RECEIVED event names. One this instance just posted is
   * served as it was written: a message never changes but for seen_at, and on arrival it
   * is unseen. Otherwise every message would be read again for the recipient and again
   * for the sender's echo, right after it was written. Other instances (Redis) and late
   * deliveries read the row.
   */
  async forDelivery(id: string, load: (id: string) => Promise<Message | null>): Promise<Message | null> {
    return this.justPosted.get(id) ?? load(id);
  }

  async byIds(ids: readonly string[]): Promise<Message[]> {
    const valid = [...new Set(ids.filter(isUuid))];
    if (!valid.length) return [];
    return this.dataSource.getRepository(Message).createQueryBuilder('m').where('m.id = ANY(:ids)', { ids: valid }).getMany();
  }

  /**
   * Whether a live event the other party caused may reach `viewerId` now: not across a
   * block either way (a blocked account hears nothing about its blocker). The viewer's
   * own actions always echo. Membership needs no re-check: events are only written to a
   * conversation's participants, and a conversation's participants never change.
   */
  async mayDeliver(viewerId: string, actorId: string): Promise<boolean> {
    if (actorId === viewerId) return true;
    const rel = await this.deps.relationships.betweenOne(viewerId, actorId);
    return !rel.aBlocksB && !rel.bBlocksA;
  }

  /**
   * The live MESSAGE_RECEIVED or MESSAGE_SEEN stream of the viewer, optionally for one
   * conversation; each event is re-checked (mayDeliver) just before it is sent.
   */
  live(viewerId: string, type: EventType.MESSAGE_RECEIVED | EventType.MESSAGE_SEEN, conversationId?: string | null): AsyncIterable<UserEvent> {
    return this.deps.events.subscribe(viewerId, [type], async (event: UserEvent) => {
      const p = event.payload as Partial<MessageReceivedPayload & MessageSeenPayload>;
      if (!p.conversationId || (conversationId != null && p.conversationId !== conversationId)) return SKIP;
      const actorId = type === EventType.MESSAGE_RECEIVED ? p.senderId : p.readerId;
      return actorId && (await this.mayDeliver(viewerId, actorId)) ? event : SKIP;
    });
  }

  /**
   * markConversationSeen's writes, in one statement: finds the target (the given message of
   * this conversation, or the latest), moves the viewer's pointer forward to it (never
   * back: concurrent marks by the same viewer cannot undo each other), and, when receipts
   * are allowed, sets seen_at on the other party's messages up to it. seen_at is bounded
   * by the target, which is at or below the pointer, so it never passes the pointer.
   * Null when there is no such message (nothing is written then).
   */
  private async markInTx(
    manager: EntityManager,
    m: { conversationId: string; viewerId: string; otherId: string; upToMessageId: string | null; receipts: boolean; now: Date },
  ): Promise<{ targetId: string; moved: boolean; seen: string[]; now: Date } | null> {
    const given = m.upToMessageId !== null;
    const target = given
      ? 'SELECT id, seq FROM messages WHERE id = $6 AND conversation_id = $1'
      : 'SELECT id, seq FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT 1';
    const params: unknown[] = [m.conversationId, m.viewerId, m.otherId, m.now, m.receipts];
    if (given) params.push(m.upToMessageId);
    const row = await preparedRow<{ id: string; moved: boolean; seen: string[] }>(
      manager,
      given ? 'messages.mark-seen-up-to' : 'messages.mark-seen-latest',
      `WITH target AS (${target}),
       moved AS (
         UPDATE conversation_members m SET last_read_seq = target.seq, last_read_at = $4
           FROM target WHERE m.conversation_id = $1 AND m.user_id = $2 AND m.last_read_seq < target.seq
         RETURNING 1
       ), seen AS (
         UPDATE messages msg SET seen_at = $4
           FROM target WHERE $5 AND msg.conversation_id = $1 AND msg.sender_id = $3 AND msg.seq <= target.seq AND msg.seen_at IS NULL
         RETURNING msg.id
       )
       SELECT target.id, EXISTS (SELECT 1 FROM moved) AS moved, ARRAY(SELECT id::text FROM seen) AS seen FROM target`,
      params,
    );
    return row ? { targetId: row.id, moved: row.moved, seen: row.seen, now: m.now } : null;
  }

}

