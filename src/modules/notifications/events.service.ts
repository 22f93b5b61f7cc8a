import type { DataSource } from 'typeorm';
import { SKIP, listenerStream } from '../../lib/async-iterable';
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
  /** Payloads carry ids only (conversationId, messageId, actorId; emoji for a reaction), never text. */
  MESSAGE_UNSENT = 'MESSAGE_UNSENT',
  MESSAGE_EDITED = 'MESSAGE_EDITED',
  MESSAGE_REACTION = 'MESSAGE_REACTION',
}

interface PendingEvent {
  userId: string;
  type: EventType;
  payload: Record<string, unknown>;
}

interface Outbox {
  events: PendingEvent[];
  /** Handed to a caller's own statement (EventsService.inline): nothing more may join. */
  taken: boolean;
}

const OUTBOX = Symbol('event-outbox');

/**
 * The event log's batch write, as CTEs a statement can carry, over 4 parameters from
 * `$first`: the accounts, types and payloads (arrays, in lock order) and the time. Each
 * account's counter is bumped by its number of events (the row lock orders its log until
 * commit) and the events are inserted numbered from it; `ev_numbered` holds each one's seq
 * by input position `i`. Counters are taken in the order the rows are listed.
 *
 * Counter rows are the last locks a transaction takes, so that two transactions never
 * wait on each other in a cycle. In a statement that also writes other rows, `after`
 * names the CTE whose rows must all be written (and locked) first: the counters are not
 * touched until it is read to the end. The CTEs of one statement otherwise run in an
 * order PostgreSQL chooses, and an unreferenced one runs last of all.
 *
 * A badge change about one conversation (payload.conversationId) that the account has
 * muted is not written at all: a muted conversation counts in no badge, so its activity
 * (a message, a read, a delete) cannot change it, and "no badge" includes no
 * inboxBadgeChanged. Read in the statement's snapshot, so the sender's path needs no
 * statement of its own to know. ev_numbered then holds only the events written.
 */
function eventLogCtes(first: number, after?: string): string {
  const [users, types, payloads, at] = [first, first + 1, first + 2, first + 3].map((n) => `$${n}`);
  return eventLogCtesOver(`SELECT x.u, x.t, x.p, x.i FROM unnest(${users}::uuid[], ${types}::text[], ${payloads}::jsonb[]) WITH ORDINALITY AS x(u, t, p, i)`, at, after);
}

/**
 * eventLogCtes over events a statement derives itself: `source` selects (u, t, p, i), i
 * numbering them in lock order (accounts in id order, each account's in emit order), and
 * `at` is their time. The send batch (send-batch.ts) writes the events of the sends its
 * own statement allowed this way.
 */
export function eventLogCtesOver(source: string, at: string, after?: string): string {
  return `ev_all AS (
         SELECT src.* FROM (${source}) AS src
         ${after ? `CROSS JOIN (SELECT count(*) FROM ${after}) AS ev_after` : ''}
       ), ev_input AS (
         SELECT * FROM ev_all
          WHERE NOT (ev_all.t = '${EventType.INBOX_BADGE_CHANGED}' AND ev_all.p->>'conversationId' IS NOT NULL AND EXISTS (
            SELECT 1 FROM conversation_members cm
             WHERE cm.conversation_id = (ev_all.p->>'conversationId')::uuid AND cm.user_id = ev_all.u AND cm.muted))
       ), ev_counts AS (
         SELECT u, count(*)::int AS n, min(i) AS first_i FROM ev_input GROUP BY u
       ), ev_counter AS (
         INSERT INTO event_counters (user_id, last_seq)
         SELECT u, n FROM ev_counts ORDER BY first_i
         ON CONFLICT (user_id) DO UPDATE SET last_seq = event_counters.last_seq + EXCLUDED.last_seq
         RETURNING user_id, last_seq
       ), ev_numbered AS (
         SELECT ev_input.i, ev_input.u, ev_input.t, ev_input.p,
                ev_counter.last_seq - ev_counts.n + row_number() OVER (PARTITION BY ev_input.u ORDER BY ev_input.i) AS seq
           FROM ev_input JOIN ev_counts USING (u) JOIN ev_counter ON ev_counter.user_id = ev_input.u
       ), ev_inserted AS (
         INSERT INTO events (user_id, seq, type, payload, created_at)
         SELECT u, seq, t, p, ${at} FROM ev_numbered
       )`;
}

/** A transaction's events, for a statement of the caller's that writes them (EventsService.inline). */
export interface InlineEvents {
  /** CTEs to put in the statement's WITH list; the statement answers the seqs by `eventSeqs`. */
  ctes: string;
  /** The statement's parameters from `first` on. */
  params: unknown[];
  /** A select-list expression: the written events' positions and seqs, as `written` expects them. */
  eventSeqs: string;
  /**
   * To call with what `eventSeqs` answered: publishes the events once the commit succeeds,
   * each first passed through `decorate` (what live delivery carries beyond the log).
   */
  written(seqs: string[], decorate?: (event: UserEvent) => UserEvent): void;
}

/**
 * The per-account event log and its fan-out. Events are queued on the transaction and
 * written in one statement, just before commit (or, where a message is posted, inside
 * the statement that writes it: inline), each account's events under its counter-row
 * lock, accounts in id order (so two transactions never wait on each other in a cycle);
 * they are published only after the commit.
 */
export class EventsService {
  private listeners = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly pubsub: EventBus,
    private readonly clock: Clock,
    private readonly onDeliver: (event: UserEvent) => void = () => undefined,
  ) {}

  emit(tx: Tx, userId: string, type: EventType, payload: Record<string, unknown>): void {
    const outbox = this.outbox(tx);
    // A second batch would take counter-row locks in an order of its own.
    if (outbox.taken) throw new Error(`event ${type} emitted after the transaction's events were written`);
    outbox.events.push({ userId, type, payload });
  }

  /**
   * Hands the transaction's queued events to a statement of the caller's, which writes
   * them along with its own rows: one round trip fewer on the hottest write, sendMessage.
   * They are the transaction's whole batch, so no event may be emitted after this.
   * `after`: the statement's CTE that writes its last other row (see eventLogCtes).
   */
  inline(tx: Tx, first: number, after: string): InlineEvents {
    const outbox = this.outbox(tx);
    if (outbox.taken) throw new Error("the transaction's events were already written");
    outbox.taken = true;
    const ordered = inLockOrder(outbox.events);
    return {
      ctes: eventLogCtes(first, after),
      params: this.params(ordered),
      eventSeqs: `ARRAY(SELECT i || ':' || seq FROM ev_numbered ORDER BY i) AS event_seqs`,
      written: (seqs, decorate = (e) => e) => {
        const events = this.numbered(
          ordered,
          seqs.map((s) => s.split(':')).map(([i, seq]) => ({ i, seq })),
        );
        tx.afterCommit(() => this.publish(events.map(decorate)));
      },
    };
  }

  /**
   * Writes the transaction's queued events now rather than just before COMMIT, so that
   * their statement can travel with the caller's last writes (pipelined()). They are the
   * transaction's whole batch, so no event may be emitted after this.
   */
  writeNow(tx: Tx): Promise<void> {
    const outbox = this.outbox(tx);
    if (outbox.taken) throw new Error("the transaction's events were already written");
    outbox.taken = true;
    return this.write(tx, outbox.events).then((written) => tx.afterCommit(() => this.publish(written)));
  }

  private outbox(tx: Tx): Outbox {
    let outbox = tx.bag.get(OUTBOX) as Outbox | undefined;
    if (!outbox) {
      const created: Outbox = { events: [], taken: false };
      outbox = created;
      tx.bag.set(OUTBOX, created);
      tx.beforeCommit(async () => {
        if (created.taken || created.events.length === 0) return;
        created.taken = true;
        const written = await this.write(tx, created.events);
        tx.afterCommit(() => this.publish(written));
      });
    }
    return outbox;
  }

  private async write(tx: Tx, events: PendingEvent[]): Promise<UserEvent[]> {
    const ordered = inLockOrder(events);
    const { rows } = await prepared<{ i: string; seq: string }>(
      tx.manager,
      'events.write',
      `WITH ${eventLogCtes(1)}
       SELECT i, seq FROM ev_numbered ORDER BY i`,
      this.params(ordered),
    );
    return this.numbered(ordered, rows);
  }

  private params(ordered: PendingEvent[]): unknown[] {
    return [ordered.map((e) => e.userId), ordered.map((e) => e.type), ordered.map((e) => JSON.stringify(e.payload)), this.clock.now()];
  }

  /** The events written, by their 1-based position `i` in `ordered` (some may have been dropped: see eventLogCtes). */
  private numbered(ordered: PendingEvent[], written: Array<{ i: string | number; seq: string | number }>): UserEvent[] {
    return written.map(({ i, seq }) => {
      const e = ordered[Number(i) - 1];
      return { userId: e.userId, cursor: String(seq), type: e.type, payload: e.payload, publishedAt: 0 };
    });
  }

  /** Events another statement of the transaction wrote (send-batch.ts): published once it commits. */
  publishOnCommit(tx: Tx, events: UserEvent[]): void {
    tx.afterCommit(() => this.publish(events));
  }

  private publish(events: UserEvent[]): void {
    for (const e of events) this.pubsub.publish('user', e.userId, { ...e, publishedAt: Date.now() });
  }

  /**
   * A live stream of one account's events of the given types, each passed through `map`
   * (return SKIP to drop one): one stream layer over the bus's listener (it also observes
   * each delivery), since every layer costs memory and time for each subscriber.
   *
   * The types, and `where` (a synchronous test of the event alone, such as its
   * conversation), are applied as the listener hears an event, before the stream holds it:
   * a stalled socket's bound (MAX_HELD) then counts only what this subscription would
   * send, so traffic in the account's other conversations cannot end it.
   */
  subscribe<T = UserEvent>(
    userId: string,
    types: EventType[],
    map: (event: UserEvent) => T | typeof SKIP | Promise<T | typeof SKIP> = (e) => e as unknown as T,
    { counted = true, where }: { counted?: boolean; where?: (event: UserEvent) => boolean } = {},
  ): AsyncIterable<T> {
    const wanted = new Set<string>(types);
    return listenerStream(
      (onEvent: (event: UserEvent) => void) =>
        this.pubsub.listen(userId, (e) => {
          if (wanted.has(e.type) && (where === undefined || where(e))) onEvent(e);
        }),
      (e: UserEvent) => {
        this.onDeliver(e);
        return map(e);
      },
      // A feed shared by several subscription streams (BadgeFeed) counts those instead.
      counted ? { onStart: () => this.listeners++, onEnd: () => this.listeners-- } : {},
    );
  }

  /** Counts a subscription stream served by a shared feed, until the returned function is called. */
  streamOpened(): () => void {
    this.listeners++;
    let open = true;
    return () => {
      if (open) this.listeners--;
      open = false;
    };
  }

  /** Open subscription streams in this process (tests wait on it; /metrics reports it). */
  listenerCount(): number {
    return this.listeners;
  }

  /**
   * What a client missed: its events after `after`, oldest first. An account with read
   * receipts off sees no MESSAGE_SEEN (none is written while it is off; this leaves out
   * those from before), filtered before the LIMIT so a page is never emptied by it.
   */
  async list(userId: string, after: string | null | undefined, first: number): Promise<UserEvent[]> {
    if (after != null && !/^\d{1,18}$/.test(after)) throw badInput('Invalid cursor', 'after');
    if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first must be between 1 and 100', 'first');
    const rows: Array<{ seq: string; type: string; payload: Record<string, unknown> }> = await this.dataSource.query(
      `SELECT seq, type, payload FROM events
        WHERE user_id = $1 AND seq > $2
          AND (type <> '${EventType.MESSAGE_SEEN}' OR (SELECT read_receipts FROM users WHERE id = $1))
        ORDER BY seq LIMIT $3`,
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

/** subscribe()'s `where` for one conversation's events (any conversation's when none is given); an event of no conversation never passes. */
export function inConversation(conversationId?: string | null): (event: UserEvent) => boolean {
  return (event) => {
    const id = (event.payload as { conversationId?: unknown }).conversationId;
    return typeof id === 'string' && (conversationId == null || id === conversationId);
  };
}

/** Accounts in id order, each account's events in emit order: two transactions never take counter-row locks in a cycle. */
function inLockOrder(events: PendingEvent[]): PendingEvent[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.userId < b.e.userId ? -1 : a.e.userId > b.e.userId ? 1 : a.i - b.i))
    .map((o) => o.e);
}
