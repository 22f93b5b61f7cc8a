import type { TokenClaims } from './auth.service';

/**
 * A revocation as it travels between instances: one token (logOut: `jti`), or every
 * token of the account issued before an epoch (changePassword: `epochBefore`).
 */
export interface Revocation {
  userId: string;
  jti?: string;
  epochBefore?: number;
}

/** What the database says of a token: its account's epoch (null: no such account) and whether its jti is revoked. */
export interface TokenStanding {
  accountEpoch: number | null;
  revoked: boolean;
}

/** Whether `revocation` ends the session of `token`. */
export function revokes(revocation: Revocation, token: TokenClaims): boolean {
  if (revocation.userId !== token.userId) return false;
  if (revocation.jti !== undefined) return revocation.jti === token.jti;
  return revocation.epochBefore !== undefined && token.epoch < revocation.epochBefore;
}

/**
 * A signed token is live while it has not expired, its account exists, its epoch is the
 * account's current one and its jti is not revoked. (A token from a later epoch than the
 * account's cannot be ours: refused too.)
 */
export function isLive(token: TokenClaims, standing: TokenStanding, nowMs: number): boolean {
  return token.expMs > nowMs && standing.accountEpoch === token.epoch && !standing.revoked;
}
