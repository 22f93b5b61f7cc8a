import type { DataSource } from 'typeorm';
import { DAY_MS, type Clock } from '../../lib/clock';
import { isUuid } from '../../lib/ids';
import { SealedTextKind } from './message-extras.entity';

export interface SealedText {
  messageId: string;
  kind: SealedTextKind;
  text: string;
  sealedAt: Date;
}

/**
 * The moderators' sealed copies of texts the participants no longer see (an unsent
 * message's text, an edited message's earlier texts). Written by MessageActionsService in
 * the transaction of the unsend or edit; read only for a moderator looking at a report's
 * context; purged by a retention job (app.ts) SEALED_TEXT_RETENTION_DAYS after sealing.
 */
export class SealedTextsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** The sealed texts of these messages, oldest first, in one statement. */
  async byMessageIds(ids: readonly string[]): Promise<SealedText[]> {
    const valid = [...new Set(ids.filter(isUuid))];
    if (!valid.length) return [];
    const rows: Array<{ message_id: string; kind: SealedTextKind; text: string; created_at: Date }> = await this.dataSource.query(
      `SELECT message_id, kind, text, created_at FROM message_sealed_texts WHERE message_id = ANY($1::uuid[]) ORDER BY created_at, id`,
      [valid],
    );
    return rows.map((r) => ({ messageId: r.message_id, kind: r.kind, text: r.text, sealedAt: r.created_at }));
  }

  /**
   * Deletes texts sealed more than `retentionDays` ago, except those of a message an open
   * report names: a moderator still deciding keeps the evidence. Several instances may run
   * it at once; they only race to delete the same rows.
   */
  async prune(retentionDays: number): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - retentionDays * DAY_MS);
    const res = await this.dataSource.query(
      `DELETE FROM message_sealed_texts s WHERE s.created_at < $1
          AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.message_id = s.message_id AND r.status = 'OPEN')`,
      [cutoff],
    );
    return Array.isArray(res) ? (res[1] as number) : 0;
  }
}
