import { Client } from 'pg';

/**
 * What a chat run must leave behind (issue 16.4), checked in PostgreSQL after every run:
 * - per account, the event log's seqs written during the run are exactly
 *   counter_before + 1 … counter_after: no gap, no duplicate, nothing beyond the counter;
 * - per conversation, the messages' seqs written during the run are exactly
 *   last_seq_before + 1 … conversations.last_seq;
 * - every acknowledged clientMessageId is stored exactly once, as the message id the
 *   acknowledgement returned.
 * "Written during the run" is found, not assumed: every counter that moved, plus the run's
 * own accounts and conversations (which must show exactly what moved, possibly nothing).
 * The snapshot of the counters is taken in temporary tables on a connection held for the
 * run, so it costs no WAL and nothing to clean up.
 */

export interface Ack {
  clientMessageId: string;
  senderId: string;
  messageId: string;
}

export interface IntegrityCheck {
  ok: boolean;
  accounts: { checked: number; events: number; bad: number; beyondCounter: number; samples: string[] };
  conversations: { checked: number; messages: number; bad: number; samples: string[] };
  clientMessageIds: { acked: number; exactlyOnce: number; missing: number; duplicated: number; otherMessage: number; samples: string[] };
  /** The check itself could not run (the run is then not proven, and is reported as such). */
  error?: string;
}

/** Rows whose seqs above `before` are not exactly before+1 … after, each one distinct. */
const BAD = `n <> after - before OR nd <> n OR (n > 0 AND (lo <> before + 1 OR hi <> after))`;

/**
 * One contiguity check, for event cursors and message seqs alike: for every row of
 * `counters` whose last_seq moved since the snapshot `before` (or that $1 names), the rows
 * of `rows` above the old value are exactly old + 1 … last_seq, each once.
 */
function contiguitySql(o: { counters: string; id: string; before: string; rows: string; rowId: string; seq: string; what: string }): string {
  return `WITH touched AS (
             SELECT c.${o.id} AS id, coalesce(b.last_seq, 0) AS before, c.last_seq AS after
               FROM ${o.counters} c LEFT JOIN ${o.before} b USING (${o.id})
              WHERE b.last_seq IS DISTINCT FROM c.last_seq OR c.${o.id} = ANY($1::uuid[])
           ), got AS (
             SELECT t.id, t.before, t.after, count(r.${o.seq}) AS n, count(DISTINCT r.${o.seq}) AS nd, min(r.${o.seq}) AS lo, max(r.${o.seq}) AS hi
               FROM touched t LEFT JOIN ${o.rows} r ON r.${o.rowId} = t.id AND r.${o.seq} > t.before
              GROUP BY t.id, t.before, t.after
           )
           SELECT count(*)::int AS checked, coalesce(sum(n), 0)::bigint AS total, count(*) FILTER (WHERE ${BAD})::int AS bad,
                  (array_agg(format('${o.what}', id, before, after, n, lo, hi)) FILTER (WHERE ${BAD}))[1:3] AS samples
             FROM got`;
}

export class ChatLedger {
  private constructor(
    private readonly c: Client,
    private readonly accounts: string[],
    private readonly conversations: string[],
  ) {}

  /** Snapshots the event counters and the conversations' last_seq before a run. */
  static async open(dbUrl: string, accounts: string[], conversations: string[]): Promise<ChatLedger> {
    const c = new Client({ connectionString: dbUrl, application_name: 'bench ledger' });
    c.on('error', () => undefined);
    await c.connect();
    await c.query('CREATE TEMP TABLE counters_before AS SELECT user_id, last_seq FROM event_counters');
    await c.query('CREATE TEMP TABLE conversations_before AS SELECT id, last_seq FROM conversations');
    await c.query('CREATE TEMP TABLE run_start AS SELECT clock_timestamp() AS at');
    await c.query('ANALYZE counters_before, conversations_before');
    return new ChatLedger(c, accounts, conversations);
  }

  async check(acks: Ack[]): Promise<IntegrityCheck> {
    const result: IntegrityCheck = {
      ok: false,
      accounts: { checked: 0, events: 0, bad: 0, beyondCounter: 0, samples: [] },
      conversations: { checked: 0, messages: 0, bad: 0, samples: [] },
      clientMessageIds: { acked: acks.length, exactlyOnce: 0, missing: 0, duplicated: 0, otherMessage: 0, samples: [] },
    };
    try {
      const a = (
        await this.c.query(
          contiguitySql({ counters: 'event_counters', id: 'user_id', before: 'counters_before', rows: 'events', rowId: 'user_id', seq: 'seq', what: 'account %s: counter %s → %s, events above it %s (seq %s … %s)' }),
          [this.accounts],
        )
      ).rows[0];
      // An event with no counter behind it (or above it) would never be found by the above.
      const beyond = (
        await this.c.query(
          `SELECT count(*)::int AS n FROM events e LEFT JOIN event_counters c USING (user_id)
            WHERE e.created_at >= (SELECT at FROM run_start) - interval '1 minute' AND e.seq > coalesce(c.last_seq, 0)`,
        )
      ).rows[0].n as number;
      result.accounts = { checked: a.checked, events: Number(a.total), bad: a.bad, beyondCounter: beyond, samples: a.samples ?? [] };

      const v = (
        await this.c.query(
          contiguitySql({ counters: 'conversations', id: 'id', before: 'conversations_before', rows: 'messages', rowId: 'conversation_id', seq: 'seq', what: 'conversation %s: last_seq %s → %s, messages above it %s (seq %s … %s)' }),
          [this.conversations],
        )
      ).rows[0];
      result.conversations = { checked: v.checked, messages: Number(v.total), bad: v.bad, samples: v.samples ?? [] };

      // By (sender, clientMessageId): the key the send is idempotent on, and an index.
      const k = (
        await this.c.query(
          `WITH per AS (
             SELECT x.cid, count(m.id) AS n, bool_or(m.id = x.mid) AS same
               FROM unnest($1::text[], $2::uuid[], $3::uuid[]) AS x(cid, sender, mid)
               LEFT JOIN messages m ON m.sender_id = x.sender AND m.client_message_id = x.cid
              GROUP BY x.cid
           )
           SELECT count(*) FILTER (WHERE n = 1 AND same)::int AS once, count(*) FILTER (WHERE n = 0)::int AS missing,
                  count(*) FILTER (WHERE n > 1)::int AS duplicated, count(*) FILTER (WHERE n = 1 AND NOT same)::int AS other,
                  (array_agg(format('clientMessageId %s: %s rows%s', cid, n, CASE WHEN n = 1 AND NOT same THEN ', not the acknowledged message' ELSE '' END)) FILTER (WHERE NOT (n = 1 AND same)))[1:3] AS samples
             FROM per`,
          [acks.map((x) => x.clientMessageId), acks.map((x) => x.senderId), acks.map((x) => x.messageId)],
        )
      ).rows[0];
      // Two acknowledgements for one key would hide in the GROUP BY: count them apart.
      const keys = new Set(acks.map((x) => x.clientMessageId)).size;
      result.clientMessageIds = {
        acked: acks.length,
        exactlyOnce: k.once,
        missing: k.missing,
        duplicated: k.duplicated + (acks.length - keys),
        otherMessage: k.other,
        samples: k.samples ?? [],
      };
      result.ok =
        result.accounts.bad === 0 &&
        result.accounts.beyondCounter === 0 &&
        result.conversations.bad === 0 &&
        result.clientMessageIds.exactlyOnce === acks.length;
    } catch (err) {
      result.error = (err as Error).message.slice(0, 300);
    }
    return result;
  }

  async close(): Promise<void> {
    await this.c.end().catch(() => undefined);
  }
}
