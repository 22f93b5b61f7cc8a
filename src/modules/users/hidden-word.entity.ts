import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * One entry of an account's hidden words (SPEC §8). Keyed by the folded form, so "Café"
 * and "CAFE" are one entry and adding either again is a no-op; the key also serves the
 * send, which reads an account's entries in its facts statement.
 */
@Entity('hidden_words')
export class HiddenWord {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** normaliseHiddenWord(phrase): what matching compares. */
  @PrimaryColumn({ type: 'text' })
  normalised: string;

  /** As the account typed it (trimmed), to show back in its list. */
  @Column({ type: 'varchar', length: 100 })
  phrase: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
