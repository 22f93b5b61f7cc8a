import { Repeater, SlidingBuffer } from '@graphql-yoga/subscription';
import type { Logger } from 'pino';
import { EventType, type EventsService } from './events.service';

/** What inboxBadgeChanged delivers: the badge as it is now, and the newest event it answers. */
export interface BadgeUpdate<B> {
  cursor: string;
  badge: B;
}

/**
 * Updates a subscriber may fall behind by before the oldest are dropped: each carries the
 * whole badge, so a newer one supersedes the ones before it.
 */
const SUBSCRIBER_BUFFER = 16;

interface Account<B> {
  subscribers: Set<(update: BadgeUpdate<B>) => void>;
  /** The account's one pub/sub listener on this instance, shared by all its subscribers. */
  upstream: AsyncIterator<unknown>;
  /** Cursors of badge events not yet answered, oldest first. */
  pending: string[];
  /** A badge is being computed, or the window after one is running. */
  busy: boolean;
}

/**
 * inboxBadgeChanged for every subscriber of an account on this instance: one pub/sub
 * listener per account, and one badge computed per event for all its sockets and
 * subscriptions (10 sockets × 20 subscriptions used to compute it 200 times). With a
 * window (INBOX_BADGE_COALESCE_MS > 0) it is also coalesced: the first change goes out at
 * once, the ones during the next `windowMs` go out as one (the newest cursor, the badge
 * as it is then), so an account gets at most one update per window. With no window,
 * each event is its own update, in order. Other instances (Redis) run their own feed:
 * once per account per instance.
 */
export class BadgeFeed<B> {
  private readonly accounts = new Map<string, Account<B>>();

  constructor(
    private readonly events: EventsService,
    private readonly compute: (userId: string) => Promise<B>,
    private readonly windowMs: number,
    private readonly logger: Logger,
  ) {}

  subscribe(userId: string): AsyncIterableIterator<BadgeUpdate<B>> {
    return new Repeater<BadgeUpdate<B>>(async (push, stop) => {
      // Counted as the subscription stream it is, though it is not a listener of its own.
      const ended = this.events.streamOpened();
      const deliver = (update: BadgeUpdate<B>) => void push(update).catch(() => undefined);
      const account = this.join(userId, deliver);
      await stop;
      this.leave(userId, account, deliver);
      ended();
    }, new SlidingBuffer(SUBSCRIBER_BUFFER));
  }

  /** Accounts with a live feed on this instance (tests). */
  accountCount(): number {
    return this.accounts.size;
  }

  private join(userId: string, deliver: (update: BadgeUpdate<B>) => void): Account<B> {
    let account = this.accounts.get(userId);
    if (!account) {
      const upstream = this.events.subscribe(userId, [EventType.INBOX_BADGE_CHANGED], undefined, { counted: false })[Symbol.asyncIterator]();
      const created: Account<B> = { subscribers: new Set(), upstream, pending: [], busy: false };
      account = created;
      this.accounts.set(userId, created);
      void this.listen(userId, created);
    }
    account.subscribers.add(deliver);
    return account;
  }

  private leave(userId: string, account: Account<B>, deliver: (update: BadgeUpdate<B>) => void): void {
    account.subscribers.delete(deliver);
    if (account.subscribers.size > 0) return;
    if (this.accounts.get(userId) === account) this.accounts.delete(userId);
    void account.upstream.return?.();
  }

  private async listen(userId: string, account: Account<B>): Promise<void> {
    try {
      for (;;) {
        const next = await account.upstream.next();
        if (next.done) return;
        account.pending.push((next.value as { cursor: string }).cursor);
        if (!account.busy) void this.drain(userId, account);
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'badge feed listener failed');
    }
  }

  private async drain(userId: string, account: Account<B>): Promise<void> {
    account.busy = true;
    try {
      while (account.pending.length > 0 && account.subscribers.size > 0) {
        // Coalesced, the newest cursor answers every event before it.
        const cursor = this.windowMs > 0 ? account.pending[account.pending.length - 1] : account.pending[0];
        account.pending = this.windowMs > 0 ? [] : account.pending.slice(1);
        let badge: B;
        try {
          badge = await this.compute(userId);
        } catch (err) {
          // The database may be briefly unreachable; the next change brings the badge again.
          this.logger.warn({ err: (err as Error).message }, 'badge computation failed');
          continue;
        }
        for (const deliver of account.subscribers) deliver({ cursor, badge });
        if (this.windowMs > 0) await new Promise<void>((resolve) => setTimeout(resolve, this.windowMs).unref());
      }
    } finally {
      account.busy = false;
    }
  }
}
