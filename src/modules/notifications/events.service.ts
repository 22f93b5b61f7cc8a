import type { DataSource } from 'typeorm';
import { SKIP, transformAsyncIterable } from '../../lib/async-iterable';
import { prepared } from '../../db/prepared';
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
 * written just before commit in one statement, each account's events under its
 * counter-row lock, accounts in id order (so two transactions never wait on each other
 * in a cycle); they are published only after the commit.
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
    // Accounts in id order: two transactions never take counter-row locks in a cycle.
    const ordered = events.map((e, i) => ({ e, i })).sort((a, b) => (a.e.userId < b.e.userId ? -1 : a.e.userId > b.e.userId ? 1 : a.i - b.i));
    // One statement for the whole batch: bump each account's counter by its number of
    // events (the row lock orders its log until commit) and insert the events numbered
    // from it. Rows are listed in lock order and the counters are taken in that order.
    const { rows } = await prepared<{ seq: string }>(
      tx.manager,
      'events.write',
      `WITH input AS (
         SELECT x.u, x.t, x.p, x.i FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS x(u, t, p, i)
       ), counts AS (
         SELECT u, count(*)::int AS n, min(i) AS first_i FROM input GROUP BY u
       ), counter AS (
         INSERT INTO event_counters (user_id, last_seq)
         SELECT u, n FROM counts ORDER BY first_i
         ON CONFLICT (user_id) DO UPDATE SET last_seq = event_counters.last_seq + EXCLUDED.last_seq
         RETURNING user_id, last_seq
       ), numbered AS (
         SELECT input.i, input.u, input.t, input.p,
                counter.last_seq - counts.n + row_number() OVER (PARTITION BY input.u ORDER BY input.i) AS seq
           FROM input JOIN counts USING (u) JOIN counter ON counter.user_id = input.u
       ), inserted AS (
         INSERT INTO events (user_id, seq, type, payload, created_at)
         SELECT u, seq, t, p, $4 FROM numbered
       )
       SELECT seq FROM numbered ORDER BY i`,
      [ordered.map((o) => o.e.userId), ordered.map((o) => o.e.type), ordered.map((o) => JSON.stringify(o.e.payload)), this.clock.now()],
    );
    return ordered.map((o, k) => ({ userId: o.e.userId, cursor: String(rows[k].seq), type: o.e.type, payload: o.e.payload, publishedAt: 0 }));
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
