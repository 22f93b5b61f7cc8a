import { webcrypto } from 'node:crypto';
import { hash, verify, Algorithm } from '@node-rs/argon2';
import { SignJWT, jwtVerify } from 'jose';
import { BoundedCache } from '../../lib/bounded-cache';

/** argon2id with OWASP's recommended minimum (19 MiB, 2 passes). */
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Verified tokens remembered at most (≈ 4 MB). */
const VERIFIED_CACHE_SIZE = 10_000;

export interface TokenClaims {
  userId: string;
}

export class AuthService {
  /** Imported once: jose given raw bytes imports the key again on every verify (~30 % of its cost). */
  private readonly key: Promise<webcrypto.CryptoKey>;
  /** Verified against when the username is unknown, so both failures cost the same time. */
  private dummyHash: Promise<string> | null = null;
  /** Tokens that verified, until their expiry (see verifyToken). */
  private readonly verified = new BoundedCache<string, { userId: string; expMs: number }>(VERIFIED_CACHE_SIZE);

  constructor(secret: string, private readonly ttlHours: number) {
    this.key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  hashPassword(password: string): Promise<string> {
    return hash(password, ARGON2);
  }

  async verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
    if (!storedHash) {
      this.dummyHash ??= hash('not-a-real-password', ARGON2);
      await verify(await this.dummyHash, password).catch(() => false);
      return false;
    }
    return verify(storedHash, password).catch(() => false);
  }

  async issueToken(userId: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlHours}h`)
      .sign(await this.key);
  }

  /**
   * Null for anything but a valid, unexpired token we signed. A token that verified is
   * remembered until its expiry (bounded, oldest dropped first), so a client's every
   * request does not pay for the HMAC again: jose's WebCrypto verify was ~17 % of the
   * server's time on a trivial query (docs/performance.md). Only successes are kept, so
   * garbage tokens cannot fill the cache; the key is the whole token string.
   */
  async verifyToken(token: string): Promise<TokenClaims | null> {
    const known = this.knownToken(token);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(token, await this.key, { algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string') return null;
      if (typeof payload.exp === 'number') {
        this.verified.set(token, { userId: payload.sub, expMs: payload.exp * 1000 });
      }
      return { userId: payload.sub };
    } catch {
      return null;
    }
  }

  /**
   * The claims of a token that verified before and has not expired, without waiting:
   * the answer for nearly every request (see verifyToken); undefined when it must be
   * verified.
   */
  knownToken(token: string): TokenClaims | undefined {
    const hit = this.verified.get(token);
    if (!hit) return undefined;
    if (hit.expMs > Date.now()) return { userId: hit.userId };
    this.verified.delete(token);
    return undefined;
  }

  /** Accepts "Bearer <token>" (any case) or a bare token, as graphql-ws clients send. */
  static tokenFrom(header: unknown): string | null {
    if (typeof header !== 'string' || header.length === 0 || header.length > 4096) return null;
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match ? match[1] : header.trim();
  }
}
