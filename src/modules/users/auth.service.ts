import { randomUUID, webcrypto } from 'node:crypto';
import { hash, verify, Algorithm } from '@node-rs/argon2';
import { SignJWT, jwtVerify } from 'jose';

/** argon2id with OWASP's recommended minimum (19 MiB, 2 passes). */
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/**
 * What a token we signed says. `epoch` is the account's session epoch when it was issued
 * (changePassword moves it on); `jti` names the token for logOut.
 */
export interface TokenClaims {
  userId: string;
  jti: string;
  epoch: number;
  /** Expiry, ms since epoch (real time: tokens do not follow the test clock). */
  expMs: number;
}

/**
 * Passwords and token signatures: no database. Whether a signed token is still live
 * (not revoked, its epoch current) is sessions.service.ts's question.
 */
export class AuthService {
  /** Imported once: jose given raw bytes imports the key again on every verify (~30 % of its cost). */
  private readonly key: Promise<webcrypto.CryptoKey>;
  /** Verified against when the username is unknown, so both failures cost the same time. */
  private dummyHash: Promise<string> | null = null;

  constructor(secret: string, private readonly ttlSeconds: number) {
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

  /** `epoch`: the account's current session epoch (0 until its first password change). */
  async issueToken(userId: string, epoch = 0): Promise<string> {
    return new SignJWT({ ep: epoch })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + this.ttlSeconds)
      .sign(await this.key);
  }

  /** The claims of an unexpired token we signed, or null. Checks the signature only. */
  async verifySignature(token: string): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, await this.key, { algorithms: ['HS256'] });
      const { sub, jti, exp, ep } = payload;
      if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number' || typeof ep !== 'number') return null;
      return { userId: sub, jti, epoch: ep, expMs: exp * 1000 };
    } catch {
      return null;
    }
  }

  /** Accepts "Bearer <token>" (any case) or a bare token, as graphql-ws clients send. */
  static tokenFrom(header: unknown): string | null {
    if (typeof header !== 'string' || header.length === 0 || header.length > 4096) return null;
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match ? match[1] : header.trim();
  }
}
