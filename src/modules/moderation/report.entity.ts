import { registerEnumType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export enum ReportReason {
  SPAM = 'SPAM',
  HARASSMENT = 'HARASSMENT',
  HATE = 'HATE',
  SEXUAL_CONTENT = 'SEXUAL_CONTENT',
  MINOR_SAFETY = 'MINOR_SAFETY',
  OTHER = 'OTHER',
}

registerEnumType(ReportReason, { name: 'ReportReason' });

export enum ReportStatus {
  OPEN = 'OPEN',
  RESOLVED = 'RESOLVED',
}
registerEnumType(ReportStatus, { name: 'ReportStatus' });

/** What a moderator decided; stored in `resolution`. */
export enum ReportAction {
  /** No violation: nothing happens to the reported account. */
  DISMISS = 'DISMISS',
  /** A violation recorded against the account, without a ban. */
  WARN = 'WARN',
  /** Banned from messaging until a moderator lifts it. */
  BAN = 'BAN',
}
registerEnumType(ReportAction, { name: 'ReportAction' });

@Entity('reports')
@Index('reports_reported_created_idx', ['reportedId', 'createdAt'])
@Index('reports_status_created_idx', ['status', 'createdAt'])
export class Report {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'reporter_id', type: 'uuid' })
  reporterId: string;

  @Column({ name: 'reported_id', type: 'uuid' })
  reportedId: string;

  @Column({ type: 'varchar', length: 20 })
  reason: ReportReason;

  @Column({ name: 'message_id', type: 'uuid', nullable: true })
  messageId: string | null;

  @Column({ type: 'text', nullable: true })
  details: string | null;

  @Column({ type: 'varchar', length: 12, default: ReportStatus.OPEN })
  status: ReportStatus;

  @Column({ type: 'varchar', length: 20, nullable: true })
  resolution: ReportAction | null;

  @Column({ name: 'resolved_by_id', type: 'uuid', nullable: true })
  resolvedById: string | null;

  /** Decided when filed (countsTowardAutoBan in ban-rules.ts); only these reports count toward the automatic ban. */
  @Column({ name: 'counts_toward_auto_ban', type: 'boolean', default: false })
  countsTowardAutoBan: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt: Date | null;
}
