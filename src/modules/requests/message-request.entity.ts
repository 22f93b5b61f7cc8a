import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { HiddenReason } from './hidden-reason';

/**
 * Stored states. A PENDING row whose expires_at has passed is EXPIRED to every reader;
 * the row is rewritten to EXPIRED lazily, when a new request between the pair needs the
 * slot. DELETED is not a state: the recipient's delete only sets deleted_at, so the
 * sender's view cannot tell a deleted request from an ignored one.
 */
export enum StoredRequestStatus {
  PENDING = 'PENDING',
  ACCEPTED = 'ACCEPTED',
  WITHDRAWN = 'WITHDRAWN',
  EXPIRED = 'EXPIRED',
}

@Entity('message_requests')
@Index('message_requests_one_pending_per_pair', ['senderId', 'recipientId'], {
  unique: true,
  where: "status = 'PENDING'",
})
@Index('message_requests_sender_client_id_key', ['senderId', 'clientMessageId'], {
  unique: true,
  where: 'client_message_id IS NOT NULL',
})
@Index('message_requests_sender_created_idx', ['senderId', 'createdAt'])
@Index('message_requests_folder_idx', ['recipientId', 'hidden', 'createdAt', 'id'], {
  where: "status = 'PENDING' AND deleted_at IS NULL",
})
// Recently deleted requests: the recipient's deleted ones that may still be restored.
@Index('message_requests_deleted_idx', ['recipientId', 'createdAt', 'id'], {
  where: "status = 'PENDING' AND deleted_at IS NOT NULL",
})
// A hidden request says why; a visible one has no reason.
@Check('message_requests_hidden_reason_check', `(hidden_reason IS NULL AND NOT hidden) OR (hidden AND hidden_reason IN ('NEW_ACCOUNT', 'LINK', 'HIDDEN_WORD'))`)
export class MessageRequest {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'sender_id', type: 'uuid' })
  senderId: string;

  @Column({ name: 'recipient_id', type: 'uuid' })
  recipientId: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @Column({ name: 'message_id', type: 'uuid' })
  messageId: string;

  @Column({ type: 'text' })
  text: string;

  @Column({ type: 'varchar', length: 16 })
  status: StoredRequestStatus;

  /** Filtered to hidden requests: new sender account or a link in the intro. */
  @Column({ type: 'boolean', default: false })
  hidden: boolean;

  /** Why it is hidden, decided at send time (hidden-reason.ts); null when not hidden. */
  @Column({ name: 'hidden_reason', type: 'varchar', length: 16, nullable: true })
  hiddenReason: HiddenReason | null;

  @Column({ name: 'client_message_id', type: 'varchar', length: 64, nullable: true })
  clientMessageId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'accepted_at', type: 'timestamptz', nullable: true })
  acceptedAt: Date | null;

  /** Not a column: the recipient's mute of its conversation, when a folder page read it (recipient-page.ts). */
  recipientMuted?: boolean;

  /** Set when the recipient deletes it; never shown to the sender. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
