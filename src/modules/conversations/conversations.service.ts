import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { preparedOne, preparedRow } from '../../db/prepared';
import { runInTransaction, type Tx } from '../../db/transaction';
import { badInput, notFound } from '../../graphql/errors';
import { pageRequest, toConnection, type Connection, type ConnectionArgs } from '../../graphql/pagination';
import type { Clock } from '../../lib/clock';
import { isUuid } from '../../lib/ids';
import { EventType, type EventsService } from '../notifications/events.service';
import { Conversation, ConversationStatus } from './conversation.entity';

/**
 * "Unread" everywhere: messages from the other participant past the member's read pointer.
 * `seen_at IS NULL` never changes the answer (seen_at is only ever set at or below the
 * reader's pointer) but lets PostgreSQL use the small partial index messages_unseen_idx
 * instead of walking a long history. An unsent message is no longer unread (issue 17).
 */
const UNREAD_MESSAGES = `messages msg
   WHERE msg.conversation_id = m.conversation_id AND msg.sender_id = m.other_user_id
     AND msg.seq > m.last_read_seq AND msg.seen_at IS NULL AND msg.hidden_for IS DISTINCT FROM m.user_id AND msg.unsent_at IS NULL`;

/** The badge's count of `user`'s inbox conversations with unread messages, as a scalar sub-select (BadgeService). */
export const unreadConversationCountSql = (user: string) => `(
  SELECT count(*)::int FROM conversation_members m
   WHERE m.user_id = ${user} AND m.in_inbox AND NOT m.muted AND EXISTS (SELECT 1 FROM ${UNREAD_MESSAGES}))`;

/** The columns fromRow reads. */
const CONVERSATION_COLUMNS = 'id, user_low_id, user_high_id, status, last_seq, last_message_id, last_message_at, opened_at, created_at';

export interface ConversationsDeps {
  clock: Clock;
  events: EventsService;
}

/**
 * Conversations and their members. One conversation per pair of accounts: a request
 * creates it in REQUEST state; accepting opens it, which puts it in both inboxes.
 */
export class ConversationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly deps: ConversationsDeps,
  ) {}

  /**
   * A new conversation for the pair in REQUEST state, with both members, in one statement
   * (call under the pair's lock, knowing the pair has none: the unique pair index enforces it).
   * Returns its id, made here (or given) rather than by PostgreSQL, so that the statements
   * that use it can travel with this one (pipelined()).
   */
  async createForPair(tx: Tx, a: string, b: string, now: Date, id: string = randomUUID()): Promise<string> {
    const [low, high] = a < b ? [a, b] : [b, a];
    await preparedOne<{ id: string }>(
      tx.manager,
      'conversations.create-for-pair',
      `WITH c AS (
         INSERT INTO conversations (id, user_low_id, user_high_id, status, created_at) VALUES ($4, $1, $2, 'REQUEST', $3) RETURNING id
       ), members AS (
         INSERT INTO conversation_members (conversation_id, user_id, other_user_id, in_inbox, activity_at)
         SELECT c.id, x.u, x.o, false, $3 FROM c, (VALUES ($1::uuid, $2::uuid), ($2::uuid, $1::uuid)) AS x(u, o)
       )
       SELECT id FROM c`,
      [low, high, now, id],
    );
    return id;
  }

  /** Opens the conversation both ways: it enters both inboxes at its last activity. */
  async openInTx(tx: Tx, conversationId: string, now: Date): Promise<void> {
    await tx.manager.query(
      `UPDATE conversations SET status = 'OPEN', opened_at = COALESCE(opened_at, $2) WHERE id = $1`,
      [conversationId, now],
    );
    await tx.manager.query(
      `UPDATE conversation_members m SET in_inbox = true, activity_at = COALESCE(c.last_message_at, $2)
         FROM conversations c WHERE c.id = m.conversation_id AND m.conversation_id = $1`,
      [conversationId, now],
    );
  }

  async byId(id: string, manager: EntityManager = this.dataSource.manager): Promise<Conversation | null> {
    if (!isUuid(id)) return null;
    // Every message operation starts here: a prepared statement, not TypeORM's find.
    const row = await preparedRow<ConversationRow>(
      manager,
      'conversations.by-id',
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1`,
      [id],
    );
    return row ? fromRow(row) : null;
  }

  /** With `viewerId`, each carries whether that viewer muted it (viewerMuted), read in the same statement. */
  async byIds(ids: readonly string[], viewerId: string | null = null): Promise<Conversation[]> {
    const valid = [...new Set(ids.filter(isUuid))];
    if (!valid.length) return [];
    const rows: Array<ConversationRow & { viewer_muted: boolean | null }> = await this.dataSource.query(
      `SELECT c.*, m.muted AS viewer_muted
         FROM conversations c LEFT JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = $2
        WHERE c.id = ANY($1::uuid[])`,
      [valid, viewerId !== null && isUuid(viewerId) ? viewerId : null],
    );
    return rows.map(fromRow);
  }

  /** The other participant of a conversation the viewer belongs to. */
  static otherParticipant(conversation: Conversation, viewerId: string): string {
    return conversation.userLowId === viewerId ? conversation.userHighId : conversation.userLowId;
  }

  static isParticipant(conversation: Conversation, userId: string): boolean {
    return conversation.userLowId === userId || conversation.userHighId === userId;
  }

  async requireParticipant(viewerId: string, conversationId: string, manager?: EntityManager): Promise<Conversation> {
    const conversation = await this.byId(conversationId, manager);
    if (!conversation || !ConversationsService.isParticipant(conversation, viewerId)) throw notFound('Conversation not found');
    return conversation;
  }

  /**
   * Whether the viewer may read the conversation. Participants of an open conversation
   * always may. A conversation still in REQUEST state is readable by a participant who
   * sent a request in it, and by the recipient only while the other party's request is
   * pending (not deleted, not expired): a deleted or expired request takes it away.
   * Anything else answers NOT_FOUND, exactly as if it did not exist.
   */
  async requireReadable(viewerId: string, conversationId: string, manager: EntityManager = this.dataSource.manager): Promise<Conversation> {
    const conversation = await this.requireParticipant(viewerId, conversationId, manager);
    return this.checkReadable(viewerId, conversation, manager);
  }

  /**
   * requireReadable for a write in the conversation, and its pair's lock (db/pair-lock) taken
   * in the same round trip: sendMessage's first statement. Participants never change, so
   * reading them before the lock is granted is safe; only a participant takes the lock.
   * `viewerInInbox`: whether the viewer's inbox shows it (read after the lock): a message
   * the viewer sends brings a conversation they deleted back, which changes their badge.
   */
  async requireReadableLockingPair(tx: Tx, viewerId: string, conversationId: string): Promise<Conversation & { viewerInInbox: boolean }> {
    if (!isUuid(conversationId)) throw notFound('Conversation not found');
    // The key is db/pair-lock's: `pair:<low>,<high>`, the pair stored in that order.
    const row = await preparedRow<ConversationRow & { viewer_in_inbox: boolean | null }>(
      tx.manager,
      'conversations.by-id-locking-pair',
      `SELECT c.*, (SELECT in_inbox FROM conversation_members WHERE conversation_id = c.id AND user_id = $2) AS viewer_in_inbox
         FROM (SELECT ${CONVERSATION_COLUMNS},
                      pg_advisory_xact_lock(hashtextextended('pair:' || user_low_id || ',' || user_high_id, 0)) IS NULL AS locked
                 FROM conversations WHERE id = $1 AND $2 IN (user_low_id, user_high_id)) c`,
      [conversationId, viewerId],
    );
    if (!row) throw notFound('Conversation not found');
    const conversation = await this.checkReadable(viewerId, fromRow(row), tx.manager);
    return Object.assign(conversation, { viewerInInbox: row.viewer_in_inbox === true });
  }

  private async checkReadable(viewerId: string, conversation: Conversation, manager: EntityManager): Promise<Conversation> {
    if (conversation.status === ConversationStatus.OPEN) return conversation;
    const other = ConversationsService.otherParticipant(conversation, viewerId);
    const [{ readable }] = await manager.query(
      `SELECT EXISTS (
         SELECT 1 FROM message_requests
          WHERE (sender_id = $1 AND recipient_id = $2)
             OR (sender_id = $2 AND recipient_id = $1 AND status = 'PENDING' AND deleted_at IS NULL AND expires_at > $3)
       ) AS readable`,
      [viewerId, other, this.deps.clock.now()],
    );
    if (!readable) throw notFound('Conversation not found');
    return conversation;
  }

  /**
   * The inbox: the viewer's open conversations not deleted by the viewer, most recent
   * activity first. One range scan of conversation_members_inbox_idx, keyset on
   * (activity_at, conversation_id); the cursor keeps microseconds so no row is skipped.
   */
  async inbox(viewerId: string, args: ConnectionArgs): Promise<Connection<Conversation>> {
    const page = pageRequest(args, 2);
    const dir = page.forward ? 'DESC' : 'ASC';
    const params: unknown[] = [viewerId, page.limit + 1];
    let keyset = '';
    if (page.cursor) {
      const [at, id] = page.cursor;
      if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || typeof id !== 'string' || !isUuid(id)) {
        throw badInput('Invalid cursor', page.forward ? 'after' : 'before');
      }
      params.push(at, id);
      keyset = ` AND (m.activity_at, m.conversation_id) ${page.forward ? '<' : '>'} ($3::timestamptz, $4::uuid)`;
    }
    const rows: Array<ConversationRow & { activity_key: string; viewer_muted: boolean }> = await this.dataSource.query(
      `SELECT c.*, m.muted AS viewer_muted, to_char(m.activity_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS activity_key
         FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.user_id = $1 AND m.in_inbox${keyset}
        ORDER BY m.activity_at ${dir}, m.conversation_id ${dir}
        LIMIT $2`,
      params,
    );
    return toConnection(rows, page, (r) => [r.activity_key, r.id], fromRow);
  }

  /**
   * The viewer's own state in each conversation — unread message count and mute — in one
   * grouped statement. A muted conversation's unread messages still count here: the
   * conversation itself shows them; only the badge ignores them.
   */
  async memberStates(viewerId: string, conversationIds: readonly string[]): Promise<Map<string, MemberState>> {
    const result = new Map<string, MemberState>();
    const ids = [...new Set(conversationIds.filter(isUuid))];
    if (!ids.length) return result;
    const rows: Array<{ conversation_id: string; muted: boolean; n: string }> = await this.dataSource.query(
      `SELECT m.conversation_id, m.muted, count(msg.id) AS n
         FROM conversation_members m
         LEFT JOIN messages msg ON msg.conversation_id = m.conversation_id AND msg.sender_id = m.other_user_id
                               AND msg.seq > m.last_read_seq AND msg.seen_at IS NULL AND msg.hidden_for IS DISTINCT FROM m.user_id
                               AND msg.unsent_at IS NULL
        WHERE m.user_id = $1 AND m.conversation_id = ANY($2::uuid[])
        GROUP BY m.conversation_id, m.muted`,
      [viewerId, ids],
    );
    for (const r of rows) result.set(r.conversation_id, { unreadCount: Number(r.n), muted: r.muted });
    return result;
  }

  /**
   * For the inbox badge: open conversations in the user's inbox, not muted by the user,
   * with at least one message from the other participant past the user's read pointer.
   * (in_inbox implies OPEN.)
   */
  /**
   * deleteConversation: hides it from the viewer's inbox only. History, the read pointer
   * and the other side are untouched; the next message brings it back (appendInTx).
   */
  async hide(viewerId: string, conversationId: string): Promise<boolean> {
    return runInTransaction(this.dataSource, async (tx) => {
      const conversation = await this.requireReadable(viewerId, conversationId, tx.manager);
      const [, changed] = await tx.manager.query(
        `UPDATE conversation_members SET in_inbox = false WHERE conversation_id = $1 AND user_id = $2 AND in_inbox`,
        [conversation.id, viewerId],
      );
      // Hiding a conversation with unread messages lowers the badge.
      if (changed) this.deps.events.emit(tx, viewerId, EventType.INBOX_BADGE_CHANGED, { conversationId: conversation.id });
      return true;
    });
  }

  /**
   * muteConversation / unmuteConversation: the viewer's own switch, on an open conversation
   * or on a request's (muting a person's requests). Messages keep arriving and the
   * conversation keeps its unreadCount; the badge, the dot and notifications ignore it
   * while muted. Setting it to what it already is writes nothing.
   */
  async setMuted(viewerId: string, conversationId: string, muted: boolean): Promise<Conversation> {
    return runInTransaction(this.dataSource, async (tx) => {
      const conversation = await this.requireReadable(viewerId, conversationId, tx.manager);
      const [, changed] = await tx.manager.query(
        `UPDATE conversation_members SET muted = $3 WHERE conversation_id = $1 AND user_id = $2 AND muted <> $3`,
        [conversation.id, viewerId, muted],
      );
      // The mute itself may change the badge. Without a conversationId: EventsService drops
      // a badge change about a conversation the account muted, and this one must go out.
      if (changed) this.deps.events.emit(tx, viewerId, EventType.INBOX_BADGE_CHANGED, {});
      return Object.assign(conversation, { viewerMuted: muted });
    });
  }

}

interface ConversationRow {
  id: string;
  user_low_id: string;
  user_high_id: string;
  status: ConversationStatus;
  last_seq: string;
  last_message_id: string | null;
  last_message_at: Date | null;
  opened_at: Date | null;
  created_at: Date;
}

export interface MemberState {
  unreadCount: number;
  muted: boolean;
}

function fromRow(r: ConversationRow & { viewer_muted?: boolean | null }): Conversation {
  return Object.assign(new Conversation(), {
    ...(r.viewer_muted == null ? {} : { viewerMuted: r.viewer_muted }),
    id: r.id,
    userLowId: r.user_low_id,
    userHighId: r.user_high_id,
    status: r.status,
    lastSeq: String(r.last_seq),
    lastMessageId: r.last_message_id,
    lastMessageAt: r.last_message_at,
    openedAt: r.opened_at,
    createdAt: r.created_at,
  });
}
