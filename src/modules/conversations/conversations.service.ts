import type { DataSource, EntityManager } from 'typeorm';
import type { Tx } from '../../db/transaction';
import { notFound } from '../../graphql/errors';
import { isUuid, pairKey } from '../../lib/ids';
import { Conversation, ConversationStatus } from './conversation.entity';

/**
 * Conversations and their members. One conversation per pair of accounts: a request
 * creates it in REQUEST state; accepting opens it, which puts it in both inboxes.
 */
export class ConversationsService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Serialises everything that changes how a pair of accounts stands (requests both ways,
   * accept, delete) inside the caller's transaction. Keyed by the sorted pair, so A→B and
   * B→A contend on the same lock.
   */
  async lockPair(tx: Tx, a: string, b: string): Promise<void> {
    await tx.manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`pair:${pairKey(a, b)}`]);
  }

  async findForPair(a: string, b: string, manager: EntityManager = this.dataSource.manager): Promise<Conversation | null> {
    const [low, high] = a < b ? [a, b] : [b, a];
    return manager.findOneBy(Conversation, { userLowId: low, userHighId: high });
  }

  /** The pair's conversation, created in REQUEST state if there is none yet (call under lockPair). */
  async findOrCreateForPair(tx: Tx, a: string, b: string, now: Date): Promise<Conversation> {
    const existing = await this.findForPair(a, b, tx.manager);
    if (existing) return existing;
    const [low, high] = a < b ? [a, b] : [b, a];
    const conversation = tx.manager.create(Conversation, {
      userLowId: low,
      userHighId: high,
      status: ConversationStatus.REQUEST,
      lastSeq: '0',
      lastMessageId: null,
      lastMessageAt: null,
      openedAt: null,
      createdAt: now,
    });
    await tx.manager.insert(Conversation, conversation);
    await tx.manager.query(
      `INSERT INTO conversation_members (conversation_id, user_id, other_user_id, in_inbox, activity_at)
       VALUES ($1, $2, $3, false, $4), ($1, $3, $2, false, $4)`,
      [conversation.id, a, b, now],
    );
    return conversation;
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
    return isUuid(id) ? manager.findOneBy(Conversation, { id }) : null;
  }

  async byIds(ids: readonly string[]): Promise<Conversation[]> {
    const valid = ids.filter(isUuid);
    if (!valid.length) return [];
    return this.dataSource.getRepository(Conversation).createQueryBuilder('c').where('c.id = ANY(:ids)', { ids: valid }).getMany();
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
}
