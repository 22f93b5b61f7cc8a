import { AppError } from './errors';
import type { Loaders } from './loaders';
import type { Services } from '../services';

export interface Viewer {
  id: string;
}

export interface Context {
  viewer: Viewer | null;
  requestId: string;
  services: Services;
  loaders: Loaders;
}

export function requireViewer(ctx: Context): Viewer {
  if (!ctx.viewer) throw new AppError('UNAUTHENTICATED', 'Sign in to do this');
  return ctx.viewer;
}
