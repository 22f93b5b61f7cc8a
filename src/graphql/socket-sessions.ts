import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { SocketSlot, SocketSlots } from '../db/socket-slots';
import type { TokenClaims } from '../modules/users/auth.service';
import type { SessionsService } from '../modules/users/sessions.service';
import { isLive, revokes } from '../modules/users/session-rules';

/** The session ended (expired, logOut, changePassword): graphql-ws's "Forbidden", as for a bad token. */
export const CLOSE_SESSION_ENDED = 4403;
/** The account already has MAX_SOCKETS_PER_ACCOUNT sockets open (all instances together). */
export const CLOSE_TOO_MANY_SOCKETS = 4430;

/** setTimeout's longest delay (~24.8 days): a longer-lived token's timer is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Tracked {
  claims: TokenClaims;
  slot: SocketSlot;
  timer: NodeJS.Timeout | null;
  ended: boolean;
}

/**
 * The token registry for this instance's sockets: each socket is bound to the token it
 * authenticated with and closed with 4403 when that token expires (a timer), is revoked
 * (heard from SessionsService: this instance's revocations and the event bus), or is
 * found dead by the sweep that asks the database every TOKEN_RECHECK_SECONDS (the bound
 * when a broadcast was missed). An operation on a socket whose session has ended is
 * refused, also in the moment before its close is sent.
 */
export class SocketSessions {
  private readonly sockets = new Map<WebSocket, Tracked>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly unlisten: () => void;
  private sweeping = false;

  constructor(
    private readonly sessions: SessionsService,
    private readonly slots: SocketSlots,
    recheckMs: number,
    private readonly logger: Logger,
  ) {
    this.unlisten = sessions.onRevoked((revocation) => {
      for (const [socket, tracked] of this.sockets) if (revokes(revocation, tracked.claims)) this.end(socket, tracked, 'Forbidden: signed out');
    });
    this.sweeper = setInterval(() => void this.sweep(), recheckMs);
    this.sweeper.unref();
  }

  /**
   * Binds an authenticated socket to its token, within its account's socket cap. False
   * when it may not stay: over the cap (closed here with 4430) or already gone.
   */
  async admit(socket: WebSocket, claims: TokenClaims): Promise<boolean> {
    const slot = await this.slots.acquire(claims.userId);
    if (!slot) {
      socket.close(CLOSE_TOO_MANY_SOCKETS, 'Too many connections for this account');
      return false;
    }
    if (socket.readyState !== socket.OPEN) {
      slot.release();
      return false;
    }
    const tracked: Tracked = { claims, slot, timer: null, ended: false };
    this.sockets.set(socket, tracked);
    socket.once('close', () => {
      if (tracked.timer) clearTimeout(tracked.timer);
      slot.release();
      this.sockets.delete(socket);
    });
    this.armExpiry(socket, tracked);
    return true;
  }

  /** Whether an operation may run on this socket now. */
  isLive(socket: WebSocket): boolean {
    const tracked = this.sockets.get(socket);
    if (!tracked || tracked.ended) return false;
    if (tracked.claims.expMs > Date.now()) return true;
    this.end(socket, tracked, 'Forbidden: token expired');
    return false;
  }

  /** Sockets open on this instance (tests and metrics). */
  get size(): number {
    return this.sockets.size;
  }

  private armExpiry(socket: WebSocket, tracked: Tracked): void {
    const left = tracked.claims.expMs - Date.now();
    if (left <= 0) return this.end(socket, tracked, 'Forbidden: token expired');
    tracked.timer = setTimeout(() => this.armExpiry(socket, tracked), Math.min(left, MAX_TIMER_MS));
    tracked.timer.unref();
  }

  private end(socket: WebSocket, tracked: Tracked, reason: string): void {
    if (tracked.ended) return;
    tracked.ended = true;
    if (tracked.timer) clearTimeout(tracked.timer);
    socket.close(CLOSE_SESSION_ENDED, reason);
  }

  /** Asks the database about every token with an open socket here, in one statement. */
  private async sweep(): Promise<void> {
    if (this.sweeping || !this.sockets.size) return;
    this.sweeping = true;
    try {
      const tokens = new Map<string, TokenClaims>();
      for (const tracked of this.sockets.values()) if (!tracked.ended) tokens.set(tracked.claims.jti, tracked.claims);
      const list = [...tokens.values()];
      const standings = await this.sessions.standings(list);
      const now = Date.now();
      const dead = new Set(list.filter((claims, i) => !isLive(claims, standings[i], now)).map((c) => c.jti));
      for (const [socket, tracked] of this.sockets) if (dead.has(tracked.claims.jti)) this.end(socket, tracked, 'Forbidden: signed out');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'socket session sweep failed; will retry');
    } finally {
      this.sweeping = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.unlisten();
    for (const tracked of this.sockets.values()) if (tracked.timer) clearTimeout(tracked.timer);
    await this.slots.close();
  }
}
