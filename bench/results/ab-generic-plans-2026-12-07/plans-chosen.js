// Run from the repository root after `npm run build`, against a copy of the bench seed: createdb -T mr_bench_seed_s1 tmpplan.
// Prints pg_prepared_statements after the batch thread's warm-up and 100 batches of 4 sends (each rolled back).
const { Client } = require('pg');
const { BATCH_SQL } = require('../../../dist/src/modules/messages/send-batch.js');
const { decideSendBatch } = require('../../../dist/src/modules/messages/send-batch-core.js');
const { randomUUID } = require('crypto');
(async () => {
  const c = new Client({ connectionString: 'postgres://root@127.0.0.1:5432/tmpplan' }); await c.connect();
  if (process.argv[2]) await c.query(`SET plan_cache_mode = ${process.argv[2]}`);
  // the worker's warm(): statements over no sends
  await c.query('BEGIN');
  await decideSendBatch(async (name, text, values) => (await c.query({ name, text, values })).rows, BATCH_SQL, [], new Date(), { points: 1, windowMs: 1 });
  await c.query('ROLLBACK');
  const ps = async () => JSON.stringify((await c.query(`SELECT name, generic_plans, custom_plans FROM pg_prepared_statements`)).rows);
  console.log('after warm', await ps());
  const { rows } = await c.query(`SELECT id, user_low_id a, user_high_id b FROM conversations WHERE status='OPEN' LIMIT 400`);
  for (let r = 0; r < 100; r++) {
    const batch = rows.slice(r * 4, r * 4 + 4);
    const sends = batch.map((x) => ({ senderId: x.a, conversationId: x.id, recipientId: x.b, text: 'hi', clientMessageId: randomUUID(), replyToId: null, id: randomUUID() }));
    await c.query('BEGIN');
    try { await decideSendBatch(async (name, text, values) => (await c.query({ name, text, values })).rows, BATCH_SQL, sends, new Date(), { points: 100, windowMs: 60000 }); } catch (e) { if (r === 0) console.log('err', e.message); }
    await c.query('ROLLBACK');
  }
  console.log('after 100 batches', await ps());
  await c.end();
})();
