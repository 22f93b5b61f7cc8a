import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export enum BanSource {
  MODERATOR = 'MODERATOR',
  /** Automatic, from distinct reporters over the threshold; lasts until reviewed. */
  REPORTS = 'REPORTS',
}

/** At most one ban per account; `until` null means until a moderator lifts it. */
@Entity('messaging_bans')
export class MessagingBan {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'timestamptz', nullable: true })
  until: Date | null;

  @Column({ type: 'varchar', length: 16 })
  source: BanSource;

  @Column({ name: 'created_by_id', type: 'uuid', nullable: true })
  createdById: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
