import type { DataSource } from 'typeorm';
import { SKIP, transformAsyncIterable } from '../../lib/async-iterable';
import type { Tx } from '../../db/transaction';
import type { EventBus, UserEvent } from '../../graphql/pubsub';
import { badInput } from '../../graphql/errors';
import type { Clock } from '../../lib/clock';

/** Every event type a subscriber can receive; each is also written to the event log. */
export enum EventType {
  MESSAGE_REQUEST_RECEIVED = 'MESSAGE_REQUEST_RECEIVED',
  MESSAGE_REQUEST_ACCEPTED = 'MESSAGE_REQUEST_ACCEPTED',
  MESSAGE_RECEIVED = 'MESSAGE_RECEIVED',
  MESSAGE_SEEN = 'MESSAGE_SEEN',
  INBOX_BADGE_CHANGED = 'INBOX_BADGE_CHANGED',
}

interface PendingEvent {
  userId: string;
  type: EventType;
  payload: Record<string, unknown>;
}

const OUTBOX = Symbol('event-outbox');

/**
 * The per-account event log and its fan-out. Events are queued on the transaction and
 * written just before commit, all of one account's events under one counter-row lock,
 * accounts in id order (so two transactions never wait on each other in a cycle); they
 * are published only after the commit.
 */
export class EventsService {
  private listeners = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly pubsub: EventBus,
    private readonly clock: Clock,
  ) {}

  emit(tx: Tx, userId: string, type: EventType, payload: Record<string, unknown>): void {
    let outbox = tx.bag.get(OUTBOX) as PendingEvent[] | undefined;
    if (!outbox) {
      const events: PendingEvent[] = [];
      outbox = events;
      tx.bag.set(OUTBOX, events);
      tx.beforeCommit(async () => {
        const written = await this.write(tx, events);
        tx.afterCommit(() => this.publish(written));
      });
    }
    outbox.push({ userId, type, payload });
  }

  private async write(tx: Tx, events: PendingEvent[]): Promise<UserEvent[]> {
    const byUser = new Map<string, PendingEvent[]>();
    for (const e of events) byUser.set(e.userId, [...(byUser.get(e.userId) ?? []), e]);
    const written: UserEvent[] = [];
    const now = this.clock.now();
    for (const userId of [...byUser.keys()].sort()) {
      const list = byUser.get(userId)!;
      // One statement per account: bump its counter (the row lock orders its events) and
      // insert the batch numbered from it.
      const [{ last_seq }] = await tx.manager.query(
        `WITH counter AS (
           INSERT INTO event_counters (user_id, last_seq) VALUES ($1, $2)
           ON CONFLICT (user_id) DO UPDATE SET last_seq = event_counters.last_seq + EXCLUDED.last_seq
           RETURNING last_seq
         ), inserted AS (
           INSERT INTO events (user_id, seq, type, payload, created_at)
           SELECT $1, counter.last_seq - $2 + x.i, x.t, x.p, $5
             FROM counter, unnest($3::text[], $4::jsonb[]) WITH ORDINALITY AS x(t, p, i)
           RETURNING seq
         )
         SELECT max(seq) AS last_seq FROM inserted`,
        [userId, list.length, list.map((e) => e.type), list.map((e) => JSON.stringify(e.payload)), now],
      );
      const first = BigInt(last_seq) - BigInt(list.length) + 1n;
      const rows = list.map((e, i) => ({ ...e, seq: (first + BigInt(i)).toString() }));
      for (const r of rows) written.push({ userId, cursor: r.seq, type: r.type, payload: r.payload, publishedAt: 0 });
    }
    return written;
  }

  private publish(events: UserEvent[]): void {
    for (const e of events) this.pubsub.publish('user', e.userId, { ...e, publishedAt: Date.now() });
  }

  /**
   * A live stream of one account's events of the given types, each passed through `map`
   * (return SKIP to drop one): one stream layer over the pub/sub subscription, since every
   * layer costs memory for each connected subscriber.
   */
  subscribe<T = UserEvent>(
    userId: string,
    types: EventType[],
    map: (event: UserEvent) => T | typeof SKIP | Promise<T | typeof SKIP> = (e) => e as unknown as T,
  ): AsyncIterable<T> {
    const wanted = new Set<string>(types);
    return transformAsyncIterable(this.pubsub.subscribe('user', userId), (e: UserEvent) => (wanted.has(e.type) ? map(e) : SKIP), {
      onStart: () => this.listeners++,
      onEnd: () => this.listeners--,
    });
  }

  /** Open subscription streams in this process (tests wait on it; /metrics reports it). */
  listenerCount(): number {
    return this.listeners;
  }

  /** What a client missed: its events after `after`, oldest first. */
  async list(userId: string, after: string | null | undefined, first: number): Promise<UserEvent[]> {
    if (after != null && !/^\d{1,18}$/.test(after)) throw badInput('Invalid cursor', 'after');
    if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first must be between 1 and 100', 'first');
    const rows: Array<{ seq: string; type: string; payload: Record<string, unknown> }> = await this.dataSource.query(
      `SELECT seq, type, payload FROM events WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [userId, after ?? '0', first],
    );
    return rows.map((r) => ({ userId, cursor: String(r.seq), type: r.type, payload: r.payload, publishedAt: 0 }));
  }

  async prune(retentionDays: number): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - retentionDays * 86_400_000);
    const res = await this.dataSource.query('DELETE FROM events WHERE created_at < $1', [cutoff]);
    return Array.isArray(res) ? (res[1] as number) : 0;
  }
}
