import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One row per participant: the participant's own view of the conversation (read pointer,
 * whether it shows in their inbox). The inbox is read from here alone, by
 * (user_id, activity_at) — see the migration for the partial index.
 */
@Entity('conversation_members')
@Index('conversation_members_inbox_idx', { synchronize: false })
export class ConversationMember {
  @PrimaryColumn({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'other_user_id', type: 'uuid' })
  otherUserId: string;

  /** True while the conversation is open and not deleted by this member. */
  @Column({ name: 'in_inbox', type: 'boolean', default: false })
  inInbox: boolean;

  @Column({ name: 'activity_at', type: 'timestamptz' })
  activityAt: Date;

  @Column({ name: 'last_read_seq', type: 'bigint', default: 0 })
  lastReadSeq: string;

  @Column({ name: 'last_read_at', type: 'timestamptz', nullable: true })
  lastReadAt: Date | null;

  /**
   * Muted by this member: its messages still arrive and count in the conversation's own
   * unreadCount, but never in the badge, the dot or a notification (BadgeService,
   * NotificationsService, EventsService drop what would say otherwise).
   */
  @Column({ type: 'boolean', default: false })
  muted: boolean;
}
