import type { DataSource, EntityManager } from 'typeorm';
import { runInTransaction } from '../../db/transaction';
import { badInput, notFound } from '../../graphql/errors';
import type { Clock } from '../../lib/clock';
import { MAX_PHRASE_LENGTH, normaliseHiddenWord } from '../../lib/hidden-words';
import { hasControlCharacters } from '../../lib/text';
import type { HiddenWordsSettings } from './hidden-words.types';

interface Entry {
  phrase: string;
  normalised: string;
}

/**
 * An account's hidden words (SPEC §8). The list is read by the send itself, with its other
 * facts (requests/send-facts.ts SEND_FACTS); this service only keeps it.
 */
export class HiddenWordsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly max: number,
  ) {}

  async settings(viewerId: string): Promise<HiddenWordsSettings> {
    return this.read(this.dataSource.manager, viewerId);
  }

  /**
   * Adds entries; one already on the list (however spelt) is left as it was. A call that
   * would take the list past its limit adds nothing.
   */
  async add(viewerId: string, words: string[]): Promise<HiddenWordsSettings> {
    const entries = this.check(words);
    return runInTransaction(this.dataSource, async (tx) => {
      // Adds by one account queue on its row, so the limit holds under parallel calls.
      const [owner] = await tx.manager.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [viewerId]);
      if (!owner) throw notFound('User not found');
      // The outer count sees the table as it was before the insert, hence the sum.
      const [{ count }]: Array<{ count: number }> = await tx.manager.query(
        `WITH added AS (
           INSERT INTO hidden_words (user_id, normalised, phrase, created_at)
           SELECT $1, e.normalised, e.phrase, $4 FROM unnest($2::text[], $3::text[]) AS e(normalised, phrase)
           ON CONFLICT DO NOTHING RETURNING 1)
         SELECT ((SELECT count(*) FROM hidden_words WHERE user_id = $1) + (SELECT count(*) FROM added))::int AS count`,
        [viewerId, entries.map((e) => e.normalised), entries.map((e) => e.phrase), this.clock.now()],
      );
      // Thrown inside the transaction: the insert is rolled back with it.
      if (count > this.max) throw badInput(`The list holds at most ${this.max} words or phrases; remove some first`, 'words');
      return this.read(tx.manager, viewerId);
    });
  }

  /** Removes entries, matched as the list matches text ("CAFÉ" removes "cafe"); others are ignored. */
  async remove(viewerId: string, words: string[]): Promise<HiddenWordsSettings> {
    const entries = this.check(words);
    await this.dataSource.query(`DELETE FROM hidden_words WHERE user_id = $1 AND normalised = ANY($2::text[])`, [
      viewerId,
      entries.map((e) => e.normalised),
    ]);
    return this.settings(viewerId);
  }

  /** 1–max entries, each 1–100 characters after trimming, with a word in it. */
  private check(words: string[]): Entry[] {
    if (words.length === 0 || words.length > this.max) throw badInput(`Pass 1–${this.max} words or phrases`, 'words');
    const byKey = new Map<string, Entry>();
    words.forEach((raw, i) => {
      // Runs of spaces and newlines read as one space, as they match.
      const phrase = raw.trim().replace(/\s+/g, ' ');
      if (hasControlCharacters(raw) || phrase.length === 0 || [...phrase].length > MAX_PHRASE_LENGTH) {
        throw badInput(`words[${i}]: each word or phrase must be 1–${MAX_PHRASE_LENGTH} characters without control characters`, 'words');
      }
      const normalised = normaliseHiddenWord(phrase);
      if (normalised === '') throw badInput(`words[${i}]: a word or phrase needs a letter, digit or emoji`, 'words');
      if (!byKey.has(normalised)) byKey.set(normalised, { phrase, normalised });
    });
    return [...byKey.values()];
  }

  private async read(manager: EntityManager, viewerId: string): Promise<HiddenWordsSettings> {
    const [row] = await manager.query(
      `SELECT u.hide_offensive_requests,
              COALESCE((SELECT array_agg(phrase ORDER BY created_at DESC, normalised) FROM hidden_words WHERE user_id = u.id), '{}') AS words
         FROM users u WHERE u.id = $1`,
      [viewerId],
    );
    if (!row) throw notFound('User not found');
    return { words: row.words, limit: this.max, hideOffensiveRequests: row.hide_offensive_requests };
  }
}
