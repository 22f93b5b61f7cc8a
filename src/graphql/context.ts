import { AppError } from './errors';
import type { Loaders } from './loaders';
import type { Services } from '../services';
import type { TokenClaims } from '../modules/users/auth.service';

export interface Viewer {
  id: string;
}

export interface Context {
  /** The signed-in account: null without a live token (none, bad, expired or revoked). */
  viewer: Viewer | null;
  /**
   * The claims of the bearer token when it is one we signed and unexpired, live or
   * revoked (logOut reads it: a repeated logOut still answers true).
   */
  session: TokenClaims | null;
  /** The client's rate-limit key: its socket address (lib/ip.ts). */
  clientIp: string;
  requestId: string;
  services: Services;
  loaders: Loaders;
}

export function requireViewer(ctx: Context): Viewer {
  if (!ctx.viewer) throw new AppError('UNAUTHENTICATED', 'Sign in to do this');
  return ctx.viewer;
}

export function requireSession(ctx: Context): TokenClaims {
  if (!ctx.session) throw new AppError('UNAUTHENTICATED', 'Sign in to do this');
  return ctx.session;
}
