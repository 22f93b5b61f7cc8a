import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from './user.entity';

/**
 * A token ended by logOut, kept until it would have expired anyway (then pruned): the
 * truth every instance checks a token against, whatever it heard on the event bus.
 */
@Entity('revoked_tokens')
export class RevokedToken {
  /** The token's `jti` claim. */
  @PrimaryColumn({ type: 'uuid' })
  jti: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Index('revoked_tokens_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
