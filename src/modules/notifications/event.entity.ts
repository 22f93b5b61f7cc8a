import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The per-account event log. `seq` comes from event_counters under a row lock taken in
 * the writing transaction, so an account's events commit in seq order and a reader of
 * `events(after)` can never see seq 7 before a still-uncommitted seq 6.
 */
@Entity('events')
@Index('events_created_idx', ['createdAt'])
export class EventRecord {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @PrimaryColumn({ type: 'bigint' })
  seq: string;

  @Column({ type: 'varchar', length: 40 })
  type: string;

  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

@Entity('event_counters')
export class EventCounter {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'last_seq', type: 'bigint', default: 0 })
  lastSeq: string;
}
