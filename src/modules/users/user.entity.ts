import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { plainFields } from '../../graphql/plain-fields';

export enum Role {
  USER = 'USER',
  MODERATOR = 'MODERATOR',
}
registerEnumType(Role, { name: 'Role' });

export enum DirectMessagePolicy {
  EVERYONE = 'EVERYONE',
  FOLLOWING = 'FOLLOWING',
  NOBODY = 'NOBODY',
}
registerEnumType(DirectMessagePolicy, {
  name: 'DirectMessagePolicy',
  description: 'Who may send the account a message request.',
  valuesConfig: {
    EVERYONE: { description: 'Anyone eligible (adults only).' },
    FOLLOWING: { description: 'Only accounts this account follows ("People You Follow").' },
    NOBODY: { description: 'No new requests and no new messages; history stays readable.' },
  },
});

/**
 * An account. Usernames are stored lowercase (the allowed alphabet is lowercase), so the
 * plain unique index makes them unique case-insensitively.
 */
@ObjectType(plainFields)
@Entity('users')
@Index('users_display_name_prefix', { synchronize: false })
@Index('users_username_prefix', { synchronize: false })
export class User {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field()
  @Index('users_username_key', { unique: true })
  @Column({ type: 'varchar', length: 24 })
  username: string;

  @Field()
  @Column({ name: 'display_name', type: 'varchar', length: 50 })
  displayName: string;

  @Field(() => String, { nullable: true })
  @Column({ name: 'avatar_url', type: 'text', nullable: true })
  avatarUrl: string | null;

  /** YYYY-MM-DD; exposed only to its owner through a field resolver. */
  @Column({ name: 'birth_date', type: 'date' })
  birthDate: string;

  @Field()
  @Column({ type: 'boolean', default: false })
  verified: boolean;

  @Field(() => Role)
  @Column({ type: 'varchar', length: 16, default: Role.USER })
  role: Role;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  @Column({ name: 'dm_policy', type: 'varchar', length: 16 })
  directMessagePolicy: DirectMessagePolicy;

  /** Hidden words' built-in option: requests with an offensive term go to hidden requests. */
  @Column({ name: 'hide_offensive_requests', type: 'boolean', default: true })
  hideOffensiveRequests: boolean;

  /** Off: the account neither sends SEEN receipts nor sees them on its own messages. */
  @Column({ name: 'read_receipts', type: 'boolean', default: true })
  readReceipts: boolean;

  /**
   * Tokens carry the epoch they were issued in; changePassword moves it on, and every
   * token of an older epoch stops working (sessions.service.ts).
   */
  @Column({ name: 'session_epoch', type: 'integer', default: 0 })
  sessionEpoch: number;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
