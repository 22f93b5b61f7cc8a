import { hash, verify, Algorithm } from '@node-rs/argon2';
import { SignJWT, jwtVerify } from 'jose';

/** argon2id with OWASP's recommended minimum (19 MiB, 2 passes). */
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export interface TokenClaims {
  userId: string;
}

export class AuthService {
  private readonly key: Uint8Array;
  /** Verified against when the username is unknown, so both failures cost the same time. */
  private dummyHash: Promise<string> | null = null;

  constructor(secret: string, private readonly ttlHours: number) {
    this.key = new TextEncoder().encode(secret);
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

  issueToken(userId: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlHours}h`)
      .sign(this.key);
  }

  /** Null for anything but a valid, unexpired token we signed. */
  async verifyToken(token: string): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      return typeof payload.sub === 'string' ? { userId: payload.sub } : null;
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
