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
 * holds, asks only for the others, and asks one socket at a time (a queue).
 * Lock keys use the two-int4 form, a keyspace apart from the bigint keys of the pair
 * lock; (hash of the account, 54 bits) + slot (10 bits, so max ≤ 1000).
 */
export class SocketSlots {
  private readonly pool: Pool;
  /** Slots this instance holds, per account. */
  private held = new Map<string, Set<number>>();
  /** Moves on when the connection is lost: slots of an older generation hold no lock. */
  private generation = 0;
  private queue: Promise<unknown> = Promise.resolve();
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
    const run = this.queue.then(() => this.tryAcquire(userId));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async tryAcquire(userId: string): Promise<SocketSlot | null> {
    const mine = this.held.get(userId) ?? new Set<number>();
    const free = Array.from({ length: this.max }, (_, k) => k).filter((k) => !mine.has(k));
    if (!free.length) return null;
    const [key, base] = keysOf(userId);
    const generation = this.generation;
    let slot: number;
    try {
      // The filter runs row by row under the LIMIT: it stops at the first lock it gets.
      const { rows } = await this.pool.query<{ s: number }>(
        'SELECT s FROM unnest($3::int[]) AS s WHERE pg_try_advisory_lock($1::int, $2::int + s) LIMIT 1',
        [key, base, free],
      );
      if (!rows.length) return null;
      slot = rows[0].s;
    } catch (err) {
      this.lost(err as Error);
      return UNCOUNTED;
    }
    if (generation !== this.generation) return UNCOUNTED;
    mine.add(slot);
    this.held.set(userId, mine);
    let released = false;
    return {
      release: () => {
        if (released || generation !== this.generation || this.closed) return;
        released = true;
        mine.delete(slot);
        if (!mine.size && this.held.get(userId) === mine) this.held.delete(userId);
        const run = this.queue.then(() => this.pool.query('SELECT pg_advisory_unlock($1::int, $2::int + $3::int)', [key, base, slot]));
        this.queue = run.catch((err: Error) => this.lost(err));
      },
    };
  }

  private lost(err: Error): void {
    this.generation++;
    this.held = new Map();
    this.logger.warn({ err: err.message }, 'socket slots connection lost; open sockets are uncounted until they reconnect');
  }

  /** Ends the connection, and with it every lock this instance holds. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.pool.end();
  }
}

/** Two int4 lock keys for an account: 32 + 22 bits of its hash, the low 10 bits of the second left for the slot. */
function keysOf(userId: string): [number, number] {
  const digest = createHash('sha256').update(`sockets:${userId}`).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4) & ~0x3ff];
}
