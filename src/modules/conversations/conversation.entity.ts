import { Field, ID, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export enum ConversationStatus {
  /** Opened by a message request that has not been accepted. */
  REQUEST = 'REQUEST',
  OPEN = 'OPEN',
}

/**
 * A one-to-one conversation; at most one per pair of accounts (sorted pair is unique).
 * `lastSeq` is the per-conversation message counter: taking the next value locks the row,
 * which gives every reader the same total order.
 */
@ObjectType({ description: 'A one-to-one conversation, seen from the viewer (otherParticipant, unreadCount).' })
@Entity('conversations')
@Index('conversations_pair_key', ['userLowId', 'userHighId'], { unique: true })
export class Conversation {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_low_id', type: 'uuid' })
  userLowId: string;

  @Column({ name: 'user_high_id', type: 'uuid' })
  userHighId: string;

  @Column({ type: 'varchar', length: 16 })
  status: ConversationStatus;

  @Column({ name: 'last_seq', type: 'bigint', default: 0 })
  lastSeq: string;

  @Column({ name: 'last_message_id', type: 'uuid', nullable: true })
  lastMessageId: string | null;

  @Column({ name: 'last_message_at', type: 'timestamptz', nullable: true })
  lastMessageAt: Date | null;

  @Column({ name: 'opened_at', type: 'timestamptz', nullable: true })
  openedAt: Date | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /**
   * Not a column: whether the viewer muted it, when the statement that read the row also
   * read the viewer's member row (the inbox, conversationById). Otherwise undefined, and
   * Conversation.muted asks the membership loader.
   */
  viewerMuted?: boolean;
}
