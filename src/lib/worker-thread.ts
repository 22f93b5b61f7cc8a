import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the module `entry` (an absolute path without its extension).
 * Built code (dist/, `npm start`) runs `entry.js`. Run from the TypeScript sources (Jest),
 * a worker does not inherit the parent's require hooks, so it compiles the `.ts` files it
 * loads with SWC, the compiler Jest uses here; the modules a worker loads are kept few and
 * free of decorators for this.
 */
export function startWorker(entry: string, options: WorkerOptions): Worker {
  if (__filename.endsWith('.js')) return new Worker(`${entry}.js`, options);
  const swc = require.resolve('@swc/core');
  const boot = `
    const { transformSync } = require(${JSON.stringify(swc)});
    const { readFileSync } = require('node:fs');
    require.extensions['.ts'] = (module, file) => module._compile(
      transformSync(readFileSync(file, 'utf8'), { filename: file, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }).code,
      file,
    );
    require(${JSON.stringify(`${entry}.ts`)});`;
  return new Worker(boot, { ...options, eval: true });
}
