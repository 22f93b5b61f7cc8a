import { Field, ID, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { plainFields } from '../../graphql/plain-fields';

@ObjectType({ ...plainFields, description: 'A message; `sender`, `status` and `seenAt` are resolved per viewer.' })
@Entity('messages')
@Index('messages_conversation_seq_key', ['conversationId', 'seq'], { unique: true })
@Index('messages_sender_client_id_key', ['senderId', 'clientMessageId'], {
  unique: true,
  where: 'client_message_id IS NOT NULL',
})
// Unread counts and seen receipts touch only messages nobody has marked seen yet: a small
// index however long the history (see ConversationsService for why the filter is exact).
@Index('messages_unseen_idx', ['conversationId', 'senderId', 'seq'], { where: 'seen_at IS NULL' })
export class Message {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  /** Position in the conversation's total order (1, 2, 3 …). */
  @Column({ type: 'bigint' })
  seq: string;

  @Column({ name: 'sender_id', type: 'uuid' })
  senderId: string;

  @Field({ description: 'Empty once the message is unsent (see unsentAt).' })
  @Column({ type: 'text' })
  text: string;

  @Field(() => String, { nullable: true })
  @Column({ name: 'client_message_id', type: 'varchar', length: 64, nullable: true })
  clientMessageId: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /**
   * The one participant this message is hidden from: the recipient of a request that left
   * their folder unanswered (deleted, withdrawn, aged out), so its intro never resurfaces
   * through a later request or an open conversation (requests/intro-visibility.ts).
   */
  @Column({ name: 'hidden_for', type: 'uuid', nullable: true })
  hiddenFor: string | null;

  /** When the recipient's read pointer passed this message (never set for a pending request). */
  @Column({ name: 'seen_at', type: 'timestamptz', nullable: true })
  seenAt: Date | null;

  /**
   * The message this one answers, in the same conversation (checked by the send statement).
   * Messages are never deleted (an unsend leaves a tombstone), so the reference holds.
   */
  @Column({ name: 'reply_to_id', type: 'uuid', nullable: true })
  replyToId: string | null;

  /** Last edit (message-edits.service.ts); earlier texts are sealed for moderators. */
  @Field(() => Date, { nullable: true, description: 'When the sender last edited it; null if never.' })
  @Column({ name: 'edited_at', type: 'timestamptz', nullable: true })
  editedAt: Date | null;

  @Column({ name: 'edit_count', type: 'int', default: 0 })
  editCount: number;

  /** Unsent for everyone (unsend.service.ts): `text` is then '' and the text sealed for moderators. */
  @Field(() => Date, { nullable: true, description: 'When the sender unsent it for everyone; the text is then empty (a tombstone).' })
  @Column({ name: 'unsent_at', type: 'timestamptz', nullable: true })
  unsentAt: Date | null;
}
