import { createHash } from 'node:crypto';
import { Pool, type PoolConfig } from 'pg';
import type { Logger } from 'pino';

/** A socket's place among its account's `max`; release it when the socket closes. */
export interface SocketSlot {
  release(): void;
}

/** Given when the database cannot be asked: the socket is let in uncounted (see acquire). */
const UNCOUNTED: SocketSlot = { release: () => undefined };

/**
 * Sockets per account, exact across instances: the k-th socket of an account holds the
 * PostgreSQL session advisory lock (account, k), k < max, on this instance's one
 * connection kept for the purpose. Instances see each other's locks; one that dies, or
 * loses that connection, drops all of its locks with it, so nothing stale is left.
 *
 * Advisory locks are re-entrant within a session: this instance remembers which slots it
 * holds and asks only for the others. Requests are served in batches, one statement each,
 * one at a time on the connection: a storm of 10,000 sockets costs a few dozen round
 * trips, not 10,000 in a row (that made connecting 10,000 sockets take 23 s). An account
 * appears at most once per batch (a re-entrant lock would hand two sockets one slot);
 * its next socket waits for the next batch. Releases go in batches the same way.
 * Lock keys use the two-int4 form, a keyspace apart from the bigint keys of the pair
 * lock; (hash of the account, 54 bits) + slot (10 bits, so max ≤ 1000).
 */
export class SocketSlots {
  private readonly pool: Pool;
  /** Slots this instance holds, per account. */
  private held = new Map<string, Set<number>>();
  /** Moves on when the connection is lost: slots of an older generation hold no lock. */
  private generation = 0;
  private waiting: Array<{ userId: string; answer: (slot: SocketSlot | null) => void }> = [];
  private releasing: Array<{ key: number; base: number; slot: number }> = [];
  private busy: Promise<void> | null = null;
  private closed = false;

  constructor(
    base: PoolConfig,
    private readonly max: number,
    private readonly logger: Logger,
  ) {
    // One connection, never closed while idle: the locks live as long as it does.
    this.pool = new Pool({ ...base, max: 1, min: 0, idleTimeoutMillis: 0 });
    this.pool.on('error', (err) => this.lost(err));
  }

  /**
   * A slot for one more socket of `userId`, or null when the account has `max` open on
   * all instances together. If the database cannot be asked, the socket is let in
   * uncounted (logged): the cap is a guard against abuse, not a reason to refuse service.
   */
  acquire(userId: string): Promise<SocketSlot | null> {
    if (this.closed) return Promise.resolve(UNCOUNTED);
    return new Promise((answer) => {
      this.waiting.push({ userId, answer });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || (!this.waiting.length && !this.releasing.length)) return;
    this.busy = (async () => {
      try {
        if (this.releasing.length) await this.releaseBatch(this.releasing.splice(0));
        if (this.waiting.length) await this.acquireBatch();
      } finally {
        this.busy = null;
        this.pump();
      }
    })();
  }

  private async acquireBatch(): Promise<void> {
    // The oldest request of each account; the rest wait for the next batch.
    const batch: typeof this.waiting = [];
    const rest: typeof this.waiting = [];
    const seen = new Set<string>();
    for (const w of this.waiting) {
      (seen.has(w.userId) ? rest : batch).push(w);
      seen.add(w.userId);
    }
    this.waiting = rest;
    const asks = batch.map((w) => {
      const mine = this.held.get(w.userId) ?? new Set<number>();
      const free = Array.from({ length: this.max }, (_, k) => k).filter((k) => !mine.has(k));
      return { w, mine, free, keys: keysOf(w.userId) };
    });
    const generation = this.generation;
    let slots: Map<number, number | null>;
    try {
      // Per account, the filter runs row by row under the LIMIT: it stops at the first lock it gets.
      const { rows } = await this.pool.query<{ i: number; s: number | null }>(
        `SELECT a.i, (SELECT s FROM unnest(a.free::int[]) AS s WHERE pg_try_advisory_lock(a.key, a.base + s) LIMIT 1) AS s
           FROM unnest($1::int[], $2::int[], $3::text[]) WITH ORDINALITY AS a(key, base, free, i)`,
        [asks.map((a) => a.keys[0]), asks.map((a) => a.keys[1]), asks.map((a) => `{${a.free.join(',')}}`)],
      );
      slots = new Map(rows.map((r) => [Number(r.i) - 1, r.s]));
    } catch (err) {
      this.lost(err as Error);
      for (const a of asks) a.w.answer(UNCOUNTED);
      return;
    }
    asks.forEach((a, k) => {
      const slot = slots.get(k) ?? null;
      if (generation !== this.generation) return a.w.answer(UNCOUNTED);
      if (slot === null || !a.free.length) return a.w.answer(null);
      a.mine.add(slot);
      this.held.set(a.w.userId, a.mine);
      a.w.answer(this.slotOf(a.w.userId, a.mine, a.keys, slot, generation));
    });
  }

  private slotOf(userId: string, mine: Set<number>, [key, base]: [number, number], slot: number, generation: number): SocketSlot {
    let released = false;
    return {
      release: () => {
        if (released || generation !== this.generation || this.closed) return;
        released = true;
        mine.delete(slot);
        if (!mine.size && this.held.get(userId) === mine) this.held.delete(userId);
        this.releasing.push({ key, base, slot });
        this.pump();
      },
    };
  }

  private async releaseBatch(locks: Array<{ key: number; base: number; slot: number }>): Promise<void> {
    try {
      await this.pool.query('SELECT count(pg_advisory_unlock(k, b + s)) FROM unnest($1::int[], $2::int[], $3::int[]) AS l(k, b, s)', [
        locks.map((l) => l.key),
        locks.map((l) => l.base),
        locks.map((l) => l.slot),
      ]);
    } catch (err) {
      this.lost(err as Error);
    }
  }

  private lost(err: Error): void {
    this.generation++;
    this.held = new Map();
    this.logger.warn({ err: err.message }, 'socket slots connection lost; open sockets are uncounted until they reconnect');
  }

  /** Ends the connection, and with it every lock this instance holds. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.busy) await this.busy;
    await this.pool.end();
  }
}

/** Two int4 lock keys for an account: 32 + 22 bits of its hash, the low 10 bits of the second left for the slot. */
function keysOf(userId: string): [number, number] {
  const digest = createHash('sha256').update(`sockets:${userId}`).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4) & ~0x3ff];
}
