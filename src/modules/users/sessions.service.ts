import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { BoundedCache } from '../../lib/bounded-cache';
import { isUuid } from '../../lib/ids';
import { preparedRow } from '../../db/prepared';
import type { EventBus } from '../../graphql/pubsub';
import type { AuthService, TokenClaims } from './auth.service';
import { isLive, revokes, type Revocation, type TokenStanding } from './session-rules';

/** Tokens remembered at most (≈ 4 MB). */
const CACHE_SIZE = 10_000;

/** A signed, unexpired token and whether it is still live (not revoked). */
export interface SessionState {
  claims: TokenClaims;
  live: boolean;
}

/**
 * Whether a bearer token still opens a session. The database is the truth (the
 * account's session epoch, revoked_tokens); each instance remembers its answer per token
 * for at most `recheckMs` (TOKEN_RECHECK_SECONDS), so a request with a token seen lately
 * costs no SQL and no HMAC: jose's verify was ~17 % of the server's time on a trivial
 * query (docs/performance.md). A revocation is applied here at once and broadcast on the
 * event bus, so every instance that hears it drops the token immediately; one that
 * misses it (no Redis, Redis down) stops accepting the token within `recheckMs`.
 */
export class SessionsService {
  private readonly known: BoundedCache<string, SessionState>;
  /** One verification per token at a time: a client's parallel first requests share it. */
  private readonly inFlight = new Map<string, Promise<SessionState | null>>();
  /** Revocations of the last `recheckMs`, for answers that were being read from the database as they arrived. */
  private recent: Array<{ at: number; revocation: Revocation }> = [];
  private readonly listeners = new Set<(revocation: Revocation) => void>();
  /** Tokens first seen in the same tick are looked up in one statement (a reconnect storm brings thousands). */
  private readonly standingsTogether = new DataLoader<TokenClaims, TokenStanding>((claims) => this.standings([...claims]), { cache: false, maxBatchSize: 1000 });
  private feed: AsyncIterator<Revocation> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly auth: AuthService,
    private readonly bus: EventBus,
    private readonly recheckMs: number,
    private readonly logger: Logger,
  ) {
    this.known = new BoundedCache(CACHE_SIZE, recheckMs);
  }

  /** Starts hearing other instances' revocations. */
  start(): this {
    if (this.feed) return this;
    const feed = this.bus.subscribe('sessionRevoked')[Symbol.asyncIterator]();
    this.feed = feed;
    void (async () => {
      for (;;) {
        const next = await feed.next();
        if (next.done) return;
        const r = next.value as Partial<Revocation> | undefined;
        if (r && typeof r.userId === 'string') this.apply({ userId: r.userId, jti: r.jti, epochBefore: r.epochBefore });
      }
    })().catch((err: Error) => this.logger.warn({ err: err.message }, 'session revocation feed failed'));
    return this;
  }

  stop(): void {
    void this.feed?.return?.();
    this.feed = null;
  }

  /** The answer for a token checked within `recheckMs`, without waiting (nearly every request); undefined: call resolve. */
  cached(token: string): SessionState | undefined {
    const hit = this.known.get(token);
    if (hit?.live && hit.claims.expMs <= Date.now()) hit.live = false;
    return hit;
  }

  /** Null for anything but an unexpired token we signed; otherwise its claims and whether it is live. */
  resolve(token: string): Promise<SessionState | null> {
    const hit = this.cached(token);
    if (hit) return Promise.resolve(hit);
    let pending = this.inFlight.get(token);
    if (!pending) {
      pending = this.verify(token).finally(() => this.inFlight.delete(token));
      this.inFlight.set(token, pending);
    }
    return pending;
  }

  private async verify(token: string): Promise<SessionState | null> {
    const claims = await this.auth.verifySignature(token);
    if (!claims) return null;
    const asked = Date.now();
    const standing = await this.standingsTogether.load(claims);
    // A revocation heard while the database answered may be newer than that answer.
    const revokedMeanwhile = this.recent.some((r) => r.at >= asked && revokes(r.revocation, claims));
    const state = { claims, live: !revokedMeanwhile && isLive(claims, standing, Date.now()) };
    this.known.set(token, state);
    return state;
  }

  /** What the database says of each token, in one statement. */
  async standings(tokens: TokenClaims[]): Promise<TokenStanding[]> {
    const valid = tokens.map((t) => isUuid(t.userId) && isUuid(t.jti));
    const asked = tokens.filter((_, i) => valid[i]);
    if (asked.length === 1) {
      const row = await preparedRow<{ epoch: number | null; revoked: boolean }>(
        this.dataSource.manager,
        'sessions.standing',
        `SELECT (SELECT session_epoch FROM users WHERE id = $1) AS epoch, EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $2) AS revoked`,
        [asked[0].userId, asked[0].jti],
      );
      return tokens.map((_, i) => (valid[i] ? { accountEpoch: row?.epoch ?? null, revoked: !!row?.revoked } : { accountEpoch: null, revoked: false }));
    }
    const rows: Array<{ i: string; epoch: number | null; revoked: boolean }> = asked.length
      ? await this.dataSource.query(
          `SELECT t.i, u.session_epoch AS epoch, (r.jti IS NOT NULL) AS revoked
             FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS t(user_id, jti, i)
             LEFT JOIN users u ON u.id = t.user_id
             LEFT JOIN revoked_tokens r ON r.jti = t.jti`,
          [asked.map((t) => t.userId), asked.map((t) => t.jti)],
        )
      : [];
    const byIndex = new Map(rows.map((r) => [Number(r.i) - 1, r]));
    let k = 0;
    return tokens.map((_, i) => {
      if (!valid[i]) return { accountEpoch: null, revoked: false };
      const row = byIndex.get(k++);
      return { accountEpoch: row?.epoch ?? null, revoked: !!row?.revoked };
    });
  }

  /** logOut: ends this one token, everywhere. Idempotent. */
  async logOut(claims: TokenClaims): Promise<void> {
    // Rows are kept only until the token would have expired anyway: pruned here.
    await this.dataSource.query(
      `WITH pruned AS (DELETE FROM revoked_tokens WHERE expires_at < now())
       INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING`,
      [claims.jti, claims.userId, new Date(claims.expMs)],
    );
    this.announce({ userId: claims.userId, jti: claims.jti });
  }

  /** After a password change has committed `epoch`: ends every token of the account from before it. */
  endEpochsBefore(userId: string, epoch: number): void {
    this.announce({ userId, epochBefore: epoch });
  }

  /** Called with every revocation this instance learns of (its own and others'). */
  onRevoked(listener: (revocation: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private announce(revocation: Revocation): void {
    this.apply(revocation);
    this.bus.publish('sessionRevoked', revocation);
  }

  /** Idempotent: an instance hears its own revocations back from the bus. */
  private apply(revocation: Revocation): void {
    const now = Date.now();
    for (const state of this.known.values()) if (state.live && revokes(revocation, state.claims)) state.live = false;
    this.recent = this.recent.filter((r) => now - r.at < this.recheckMs);
    this.recent.push({ at: now, revocation });
    for (const listener of this.listeners) listener(revocation);
  }
}
