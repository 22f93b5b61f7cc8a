/**
 * Where a subscriber's memory goes, piece by piece, in one process:
 * `node --expose-gc dist/bench/memory-breakdown.js [databaseUrl]` (default: a copy of the
 * quick seed). Each piece is built N times and kept alive; heap used after two full GCs,
 * minus before, divided by N:
 *  - the per-subscription context's DataLoaders (createLoaders with cache: false),
 *  - the account's event stream (EventsService.subscribe, started),
 *  - a whole subscription as graphql-js executes it with our schema and context
 *    (parse + validate + subscribe + first next()), which includes both of the above.
 * What the socket itself costs (ws + graphql-ws) is the bare server's figure in the bench.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { parse, subscribe, validate } from 'graphql';
import { loadConfig } from '../src/config';
import { createApp } from '../src/app';
import { createLoaders } from '../src/graphql/loaders';
import { createLogger } from '../src/lib/logger';
import { EventType } from '../src/modules/notifications/events.service';
import { ADMIN_URL, dbUrl, withClient } from './lib/common';
import { SUB_IDLE, SUB_MESSAGE_RECEIVED } from './lib/operations';
import { cloneSeed, dropDatabase, ensureSeed } from './lib/seed';

const N = 5000;
const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed + process.memoryUsage().external;
}

async function measure(label: string, make: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const keep: unknown[] = [];
  const before = heap();
  for (let i = 0; i < N; i++) keep.push(await make(i));
  const after = heap();
  const kb = Math.round(((after - before) / N / 1024) * 10) / 10;
  console.log(`${label.padEnd(70)} ${kb} KB each`);
  keep.length = 0;
  return kb;
}

async function main() {
  if (!gc) throw new Error('run with node --expose-gc');
  let url = process.argv[2];
  let temp: string | null = null;
  if (!url) {
    const seed = await ensureSeed(0.1, false);
    temp = `mr_bench_mem_${process.pid}`;
    await cloneSeed(seed.database, temp);
    url = dbUrl(temp);
  }
  const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: url, JWT_SECRET: randomUUID() + randomUUID(), LOG_LEVEL: 'silent' });
  const app = await createApp(config, { logger: createLogger('silent') });
  const users = (await withClient(url, (c) => c.query('SELECT id FROM users ORDER BY username LIMIT 1000'))).rows.map((r) => r.id as string);
  const { services, schema } = app;

  await measure('parse(subscription document) (graphql-ws and ours parse per subscription)', () => parse(SUB_MESSAGE_RECEIVED));
  await measure('createLoaders(services, viewer, { cache: false })', (i) => createLoaders(services, users[i % users.length], { cache: false }));
  await measure('EventsService.subscribe(user, [type]) started', async (i) => {
    const it = services.events.subscribe(users[i % users.length], [EventType.MESSAGE_REQUEST_ACCEPTED])[Symbol.asyncIterator]();
    void it.next();
    await Promise.resolve();
    return it;
  });
  for (const [name, query] of [
    ['messageRequestAccepted', SUB_IDLE],
    ['messageReceived', SUB_MESSAGE_RECEIVED],
  ] as const) {
    await measure(`whole subscription (${name}): parse, validate, subscribe, started`, async (i) => {
      const document = parse(query);
      validate(schema, document);
      const viewer = { id: users[i % users.length] };
      const result = await subscribe({
        schema,
        document,
        contextValue: { viewer, requestId: randomUUID(), services, loaders: createLoaders(services, viewer.id, { cache: false }) },
      });
      const it = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      void it.next();
      await Promise.resolve();
      return { it, document };
    });
  }
  await app.close();
  if (temp) await dropDatabase(temp);
  void ADMIN_URL;
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
