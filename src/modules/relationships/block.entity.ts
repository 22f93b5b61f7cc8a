import { CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('blocks')
@Index('blocks_blocked_idx', ['blockedId'])
export class Block {
  @PrimaryColumn({ name: 'blocker_id', type: 'uuid' })
  blockerId: string;

  @PrimaryColumn({ name: 'blocked_id', type: 'uuid' })
  blockedId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
