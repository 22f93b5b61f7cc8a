import { CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** One-way follow. The primary key makes follow idempotent under concurrency. */
@Entity('follows')
@Index('follows_followee_idx', ['followeeId', 'createdAt'])
export class Follow {
  @PrimaryColumn({ name: 'follower_id', type: 'uuid' })
  followerId: string;

  @PrimaryColumn({ name: 'followee_id', type: 'uuid' })
  followeeId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
