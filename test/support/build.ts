import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Tests that run the compiled service (admin CLI, SIGTERM) need dist/. `npm test` builds
 * it first (schema:check); a bare `npx jest` run builds it here once.
 */
export function ensureBuilt(): void {
  const marker = path.join(ROOT, 'dist', 'src', 'index.js');
  const source = path.join(ROOT, 'src', 'index.ts');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(source).mtimeMs) return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}
