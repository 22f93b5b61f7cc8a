import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export enum SealedTextKind {
  /** The text a message had before an edit. */
  EDITED = 'EDITED',
  /** The text a message had when its sender unsent it. */
  UNSENT = 'UNSENT',
}

/**
 * Texts taken out of sight of both participants (an unsend, an edit's previous text),
 * kept for moderators only: read through a report's context (ModerationService), never
 * by a message resolver. Purged SEALED_TEXT_RETENTION_DAYS after they were sealed, unless
 * an open report names the message (sealed-text-retention.ts).
 */
@Entity('message_sealed_texts')
@Index('message_sealed_texts_message_idx', ['messageId', 'createdAt'])
@Index('message_sealed_texts_created_idx', ['createdAt'])
export class MessageSealedText {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'message_id', type: 'uuid' })
  messageId: string;

  @Column({ type: 'varchar', length: 8 })
  kind: SealedTextKind;

  @Column({ type: 'text' })
  text: string;

  /** When it was sealed: the edit or the unsend. */
  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/** One reaction per participant per message: the key makes a second one a replacement. */
@Entity('message_reactions')
export class MessageReaction {
  @PrimaryColumn({ name: 'message_id', type: 'uuid' })
  messageId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** One emoji grapheme (lib/emoji.ts), at most 32 code points. */
  @Column({ type: 'varchar', length: 64 })
  emoji: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
