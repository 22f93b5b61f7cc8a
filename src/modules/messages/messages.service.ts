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
import { EventType, inConversation, type EventsService, type InlineEvents } from '../notifications/events.service';
import type { EventVisibility } from '../notifications/event-visibility';
import { activeBanJoinSql } from '../moderation/bans.service';
import type { RelationshipsService } from '../relationships/relationships.service';
import { Message } from './message.entity';
import { fromPosted, messageFromRow, toPosted, type MessageRow } from './message-rows';
import { evaluateSendMessage, messageTextAcceptable, receiptsAllowed, type SendMessageFacts } from './message-rules';

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
  /** sendMessage only: the message answered, checked by its statement (same conversation, visible, not unsent). */
  replyToId?: string | null;
}

export interface SendMessage {
  conversationId: string;
  text: string;
  clientMessageId?: string | null;
  replyToId?: string | null;
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
  sender_policy: SendMessageFacts['senderPolicy'];
  ban_until: Date | null;
  banned: boolean;
  a_blocks_b: boolean;
  b_blocks_a: boolean;
  repeated: boolean;
  reply_found: boolean;
}

interface SendFacts {
  recipientPolicy: SendMessageFacts['recipientPolicy'];
  senderPolicy: SendMessageFacts['senderPolicy'];
  senderBan: SendMessageFacts['senderBan'];
  relationship: SendMessageFacts['relationship'];
  /** The sender already used this clientMessageId. */
  repeated: boolean;
  replyFound: boolean;
}

export interface MessagesDeps {
  clock: Clock;
  events: EventsService;
  conversations: ConversationsService;
  relationships: RelationshipsService;
  visibility: EventVisibility;
}

/**
 * Messages: appending in the conversation's total order, sending with its rules, reading
 * history, seen receipts. Codes: NOT_FOUND, MESSAGING_BANNED, RECIPIENT_UNAVAILABLE,
 * REQUEST_PENDING, OWN_MESSAGING_DISABLED, IDEMPOTENCY_KEY_REUSED, BAD_USER_INPUT.
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
   * path that adds a message to an open conversation goes through here or through send,
   * which does the same in one statement with its rules' facts. The transaction's events
   * are written with the message, so none may be emitted after this.
   */
  async postInTx(tx: Tx, input: AppendMessage, recipientId: string): Promise<Message> {
    const id = randomUUID();
    this.announce(tx, { conversationId: input.conversationId, messageId: id, senderId: input.senderId }, recipientId);
    const events = this.deps.events.inline(tx, 7, APPEND_LAST_CTE);
    const row = await preparedRow<{ seq: string; event_seqs: string[] }>(
      tx.manager,
      'messages.post',
      `WITH ${appendCtes('true')}, ${events.ctes}
       SELECT seq, ${events.eventSeqs} FROM msg`,
      [...appendParams(input, id), ...events.params],
    );
    if (!row) throw new Error(`conversation ${input.conversationId} not found while appending`);
    return this.posted(tx, events, row.event_seqs, messageOf(input, id, row.seq));
  }

  /**
   * Appends a message inside the caller's transaction, announcing nothing (a request's
   * intro: its own events say it). See appendCtes for the order and the inbox. `id` may be
   * made by the caller, for a statement that travels with this one (pipelined()).
   */
  async appendInTx(tx: Tx, input: AppendMessage, id: string = randomUUID()): Promise<Message> {
    const row = await preparedRow<{ seq: string }>(tx.manager, 'messages.append', `WITH ${appendCtes('true')} SELECT seq FROM msg`, appendParams(input, id));
    if (!row) throw new Error(`conversation ${input.conversationId} not found while appending`);
    return messageOf(input, id, row.seq);
  }

  /** The events of a new message: to both participants (the sender's other devices), and the recipient's badge. */
  private announce(tx: Tx, payload: MessageReceivedPayload, recipientId: string): void {
    this.deps.events.emit(tx, recipientId, EventType.MESSAGE_RECEIVED, { ...payload });
    this.deps.events.emit(tx, payload.senderId, EventType.MESSAGE_RECEIVED, { ...payload });
    this.deps.events.emit(tx, recipientId, EventType.INBOX_BADGE_CHANGED, { conversationId: payload.conversationId });
  }

  /** After the statement that wrote a message and its events: kept for its live delivery, then published carrying it. */
  private posted(tx: Tx, events: InlineEvents, seqs: string[], message: Message): Message {
    this.keepForDelivery(tx, message);
    const posted = toPosted(message);
    events.written(seqs, (e) => (e.type === EventType.MESSAGE_RECEIVED ? { ...e, posted } : e));
    return message;
  }

  /**
   * A message this instance posts in `tx`, kept for its live deliveries once committed.
   * Register it before the events' after-commit publish, so it is there when they land.
   */
  keepForDelivery(tx: Tx, message: Message): void {
    tx.afterCommit(() => this.justPosted.set(message.id, message));
  }

  /**
   * sendMessage's single path (the batcher's fallback, and sends it does not take: see
   * send-batcher.ts). Refusals in message-rules' order: not readable → NOT_FOUND; banned
   * sender → MESSAGING_BANNED; own policy NOBODY → OWN_MESSAGING_DISABLED; a block either
   * way or the recipient's NOBODY → RECIPIENT_UNAVAILABLE; still a request →
   * REQUEST_PENDING; a reply to no visible message → NOT_FOUND; then the text.
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
        const now = this.deps.clock.now();
        const replyToId = input.replyToId ?? null;
        // Any id that is no message of this conversation is NOT_FOUND, malformed ones too.
        if (replyToId !== null && !isUuid(replyToId)) throw notFound('The message replied to was not found');
        const append: AppendMessage = { conversationId: conversation.id, senderId, text: input.text, clientMessageId: key, now, replyToId };
        // Read as the lock was taken; an accept in between only makes this a refusal
        // that a retry turns into a send (a conversation never goes back from OPEN).
        const conversationOpen = conversation.status === ConversationStatus.OPEN;
        const { facts: { replyFound, ...facts }, message } = await this.sendInTx(tx, append, recipientId, conversationOpen && messageTextAcceptable(input.text), {
          senderInboxReturns: conversationOpen && !conversation.viewerInInbox,
        });
        // A repeat is the answer to the original send, whatever changed since. (When the
        // append was attempted, a repeat failed it on the unique index instead: see below.)
        if (facts.repeated) {
          const replay = await this.replay(tx.manager, senderId, key!, conversation.id, input.text);
          if (replay) return replay;
        }
        const verdict = evaluateSendMessage({ ...facts, conversationOpen, replyFound, text: input.text });
        // A refusal rolls back what sendInTx appended.
        if (!verdict.allowed) throw new AppError(verdict.code, verdict.message, verdict.extensions);
        if (!message) throw new Error(`an allowed send appended nothing to conversation ${conversation.id}`);
        return message;
      });
    } catch (err) {
      // A repeat whose append was attempted, or parallel repeats that all passed the check
      // above: the unique index lets one in, and the others replay it.
      if (key !== null && isUniqueViolation(err, 'messages_sender_client_id_key')) {
        const replay = await this.replay(this.dataSource.manager, senderId, key, conversationId, input.text);
        if (replay) return replay;
      }
      throw err;
    }
  }

  /**
   * sendMessage's one statement under the pair lock: everything its rules need and, when
   * `attempt` (an open conversation, an acceptable text), the append with its events, on
   * the bet that the rules allow it; a refusal rolls the append back. sendMessage is the
   * hottest write and every statement under the pair lock is time the pair waits. The
   * facts are those the bans, relationships and users modules answer one by one elsewhere.
   * A repeated key makes the insert fail on its unique index when attempted (send replays).
   */
  private async sendInTx(
    tx: Tx,
    input: AppendMessage,
    recipientId: string,
    attempt: boolean,
    opts: { senderInboxReturns: boolean },
  ): Promise<{ facts: SendFacts; message: Message | null }> {
    const id = randomUUID();
    if (attempt) {
      this.announce(tx, { conversationId: input.conversationId, messageId: id, senderId: input.senderId }, recipientId);
      // The sender had deleted the conversation: its own message brings it back to its inbox.
      if (opts.senderInboxReturns) this.deps.events.emit(tx, input.senderId, EventType.INBOX_BADGE_CHANGED, { conversationId: input.conversationId });
    }
    const events = this.deps.events.inline(tx, 10, APPEND_LAST_CTE);
    // $1–$6 are the append's (appendParams), $7 the recipient, $8 whether to append, $9 the
    // message replied to: the append happens only when it is one the sender can see in this
    // conversation, not unsent (reply_found says which).
    const replyFound = `($9::uuid IS NULL OR EXISTS (SELECT 1 FROM messages WHERE id = $9 AND conversation_id = $1 AND unsent_at IS NULL AND hidden_for IS DISTINCT FROM $4))`;
    const row = await preparedOne<SendFactsRow & { seq: string | null; event_seqs: string[] }>(
      tx.manager,
      'messages.send',
      `WITH ${appendCtes(`$8::boolean AND ${replyFound}`, '$9')}, ${events.ctes}
       SELECT (SELECT seq FROM msg) AS seq, ${events.eventSeqs},
              (SELECT dm_policy FROM users WHERE id = $7) AS recipient_policy,
              (SELECT dm_policy FROM users WHERE id = $4) AS sender_policy,
              ban.until AS ban_until, ban.banned IS NOT NULL AS banned,
              EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $4 AND blocked_id = $7) AS a_blocks_b,
              EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $7 AND blocked_id = $4) AS b_blocks_a,
              $6::text IS NOT NULL AND EXISTS (SELECT 1 FROM messages WHERE sender_id = $4 AND client_message_id = $6::text) AS repeated,
              ${replyFound} AS reply_found
         FROM (SELECT 1) one
         ${activeBanJoinSql('$4', '$2')}`,
      // A text that is not appended is not sent either: PostgreSQL refuses a NUL in any parameter.
      [...appendParams(attempt ? input : { ...input, text: '' }, id), recipientId, attempt, input.replyToId ?? null, ...events.params],
    );
    const facts: SendFacts = {
      recipientPolicy: row.recipient_policy ?? null,
      senderPolicy: row.sender_policy ?? null,
      senderBan: row.banned ? { until: row.ban_until ?? null } : null,
      relationship: { aBlocksB: row.a_blocks_b, bBlocksA: row.b_blocks_a },
      repeated: row.repeated,
      replyFound: row.reply_found,
    };
    return { facts, message: row.seq === null ? null : this.posted(tx, events, row.event_seqs, messageOf(input, id, row.seq)) };
  }

  /** The message this sender posted under an idempotency key, if any. */
  byClientKey(senderId: string, key: string, manager: EntityManager = this.dataSource.manager): Promise<Message | null> {
    return manager.findOneBy(Message, { senderId, clientMessageId: key });
  }

  /** The message this sender already sent under `key`, if the repeat is the same send. */
  private async replay(manager: EntityManager, senderId: string, key: string, conversationId: string, text: string): Promise<Message | null> {
    const existing = await this.byClientKey(senderId, key, manager);
    return existing && MessagesService.replayOf(existing, conversationId, text);
  }

  /** A repeat of `existing`'s key answers it when it is the same send; another send under that key is refused. */
  static replayOf(existing: Message, conversationId: string, text: string): Message {
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
    const [page] = await this.pages(viewerId, [conversation.id], args);
    return page;
  }

  /**
   * One page of each of `conversationIds` as `viewerId` reads them, in one statement (an
   * inbox asking every row for its latest messages): a keyset range per conversation over
   * messages_conversation_seq_key, each its own LIMIT, in their total order (seq
   * ascending). Without first or last, the newest page: that is what a chat opens on;
   * `last` + `before` then walks back through older messages. Intros hidden from the
   * viewer (requests/intro-visibility.ts) are skipped; the seq keyset still has no gaps.
   */
  async pages(viewerId: string, conversationIds: readonly string[], args: ConnectionArgs): Promise<Array<Connection<Message>>> {
    const page = pageRequest(args.first == null && args.last == null ? { ...args, last: DEFAULT_HISTORY_PAGE } : args, 1);
    const cursor = page.cursor?.[0];
    if (cursor !== undefined && (typeof cursor !== 'string' || !/^\d{1,18}$/.test(cursor))) {
      throw badInput('Invalid cursor', page.forward ? 'after' : 'before');
    }
    // Once each, should a batch name a conversation twice (the loaders of a graphql-ws
    // operation keep no cache): the page is read once and answered to both.
    const params: unknown[] = [[...new Set(conversationIds)], page.limit + 1, viewerId];
    if (cursor !== undefined) params.push(cursor);
    const rows: MessageRow[] = await this.dataSource.query(
      `SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.text, m.client_message_id, m.created_at, m.seen_at,
              m.reply_to_id, m.edited_at, m.edit_count, m.unsent_at
         FROM unnest($1::uuid[]) WITH ORDINALITY AS wanted(id, i)
        CROSS JOIN LATERAL (
          SELECT * FROM messages
           WHERE conversation_id = wanted.id AND hidden_for IS DISTINCT FROM $3::uuid ${cursor === undefined ? '' : `AND seq ${page.forward ? '>' : '<'} $4`}
           ORDER BY seq ${page.forward ? 'ASC' : 'DESC'} LIMIT $2
        ) m
        ORDER BY wanted.i, m.seq ${page.forward ? 'ASC' : 'DESC'}`,
      params,
    );
    const byConversation = new Map<string, Message[]>();
    for (const row of rows) {
      const list = byConversation.get(row.conversation_id) ?? [];
      list.push(messageFromRow(row));
      byConversation.set(row.conversation_id, list);
    }
    return conversationIds.map((id) => toConnection(byConversation.get(id) ?? [], page, (m) => [String(m.seq)]));
  }

  /**
   * The message a live MESSAGE_RECEIVED event names. One this instance just posted is
   * served as it was written: a message never changes but for seen_at, and on arrival it
   * is unseen. Otherwise every message would be read again for the recipient and again
   * for the sender's echo, right after it was written. Other instances (Redis) and late
   * deliveries read the row. Those two read nothing either when the event carries the
   * message as posted (UserEvent.posted) and is fresh.
   */
  forDelivery(event: UserEvent, load: (id: string) => Promise<Message | null>): Message | null | Promise<Message | null> {
    const { messageId } = event.payload as unknown as MessageReceivedPayload;
    const mine = this.justPosted.get(messageId);
    if (mine) return mine;
    // Posted by another instance (Redis), just now: the event carries it.
    if (event.posted && Date.now() - event.publishedAt < JUST_POSTED_MS && event.posted.id === messageId) return fromPosted(event.posted);
    return load(messageId);
  }

  /** Drops this instance's delivery copy of a message that changed (edited, unsent). */
  forget(id: string): void {
    this.justPosted.delete(id);
  }

  async byIds(ids: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<Message[]> {
    const valid = [...new Set(ids.filter(isUuid))];
    if (!valid.length) return [];
    return manager.getRepository(Message).createQueryBuilder('m').where('m.id = ANY(:ids)', { ids: valid }).getMany();
  }

  /**
   * The live MESSAGE_RECEIVED or MESSAGE_SEEN stream of the viewer, optionally for one
   * conversation; each event is re-checked just before it is sent, by the rule events(after:)
   * applies too (EventVisibility: nothing from across a block either way). Membership needs
   * no re-check: events are only written to a conversation's participants, and a
   * conversation's participants never change.
   */
  live(viewerId: string, type: EventType.MESSAGE_RECEIVED | EventType.MESSAGE_SEEN, conversationId?: string | null): AsyncIterable<UserEvent> {
    return this.deps.events.subscribe(
      viewerId,
      [type],
      async (event: UserEvent) => {
        // A send decided the same rule (no block either way) as it committed, once for both
        // participants: its delivery runs no query (a block after that commit is after the message).
        if (event.type === EventType.MESSAGE_RECEIVED && event.posted) return event;
        return (await this.deps.visibility.allows(viewerId, event)) ? event : SKIP;
      },
      { where: inConversation(conversationId) },
    );
  }

  /**
   * markConversationSeen's writes, in one statement: finds the target (the given message of
   * this conversation, or the latest), moves the viewer's pointer forward to it (never
   * back: concurrent marks by the same viewer cannot undo each other), and, when receipts
   * are allowed and both accounts have read receipts on (message-rules: visibleSeenAt),
   * sets seen_at on the other party's messages up to it. With either off, no seen_at and
   * so no MESSAGE_SEEN; turned back on, the reader's next mark sends the receipt for
   * everything up to its target, as it is now. seen_at is bounded by the target, which is
   * at or below the pointer, so it never passes the pointer.
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
           FROM target WHERE $5 AND NOT EXISTS (SELECT 1 FROM users WHERE id IN ($2, $3) AND NOT read_receipts)
            AND msg.conversation_id = $1 AND msg.sender_id = $3 AND msg.seq <= target.seq AND msg.seen_at IS NULL
         RETURNING msg.id
       )
       SELECT target.id, EXISTS (SELECT 1 FROM moved) AS moved, ARRAY(SELECT id::text FROM seen) AS seen FROM target`,
      params,
    );
    return row ? { targetId: row.id, moved: row.moved, seen: row.seen, now: m.now } : null;
  }

}

/** The append's last CTE: events written in the same statement come after it (appendCtes). */
const APPEND_LAST_CTE = 'members';

/**
 * A message's append as CTEs over $1–$6 (appendParams), done only `when`: taking the next
 * seq updates (and so locks) the conversation row until commit, so concurrent senders
 * queue there and every reader sees one order; the message is inserted with it, the
 * conversation points at it, and both members' activity moves. An open conversation
 * comes back into both inboxes (a deleted conversation returns with its history). The
 * CTEs share one snapshot, so the members update reads the status from `conv`. `msg`
 * answers the new seq. Each CTE reads the one before, so they write in this order, and
 * `members` (APPEND_LAST_CTE) is the last: events written in the same statement wait
 * for it (a deleteConversation holding a member row must not find the counters taken).
 */
function appendCtes(when: string, replyTo = 'NULL::uuid'): string {
  return `conv AS (
         UPDATE conversations SET last_seq = last_seq + 1, last_message_at = $2, last_message_id = $3
          WHERE id = $1 AND ${when} RETURNING last_seq, status
       ), msg AS (
         INSERT INTO messages (id, conversation_id, seq, sender_id, text, client_message_id, created_at, reply_to_id)
         SELECT $3, $1, conv.last_seq, $4, $5, $6, $2, ${replyTo} FROM conv
         RETURNING seq
       ), ${APPEND_LAST_CTE} AS (
         UPDATE conversation_members m SET activity_at = $2, in_inbox = (conv.status = 'OPEN') OR m.in_inbox
           FROM conv, msg WHERE m.conversation_id = $1
         RETURNING 1
       )`;
}

function appendParams(input: AppendMessage, id: string): unknown[] {
  return [input.conversationId, input.now, id, input.senderId, input.text, input.clientMessageId];
}

/** The message just appended, as its row reads: unseen. */
function messageOf(input: AppendMessage, id: string, seq: string): Message {
  return messageFromRow({
    id,
    conversation_id: input.conversationId,
    seq,
    sender_id: input.senderId,
    text: input.text,
    client_message_id: input.clientMessageId,
    created_at: input.now,
    seen_at: null,
    reply_to_id: input.replyToId ?? null,
    edited_at: null,
    edit_count: 0,
    unsent_at: null,
  });
}
