import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import { hash, Algorithm } from '@node-rs/argon2';
import { createDataSource } from '../../src/db/data-source';
import { ADMIN_URL, dbUrl, log, withClient } from './common';

/**
 * The benchmark data set, generated inside PostgreSQL with generate_series (no row
 * crosses the wire). Scale 1 is what issue 7 asks for:
 *   10k users (popularity skewed by a power law: a few accounts get most follows and
 *   conversations), 100k follows, 50k open conversations holding ~1M messages, and
 *   100k message requests over 30 days: one accepted request per open conversation,
 *   10k pending to one account (the "hot" account, u000001), and the rest pending,
 *   hidden, deleted, withdrawn or aged out, each with its own request conversation and
 *   intro message (the schema requires one), plus notifications, a few blocks and bans.
 *
 * The tables come from the project's migrations; their indexes and keys are dropped
 * while rows are inserted and rebuilt afterwards from the definitions PostgreSQL reports,
 * so the result is exactly what the migrations create, only faster.
 */

export interface SeedCounts {
  users: number;
  follows: number;
  openConversations: number;
  requestConversations: number;
  messages: number;
  requests: number;
  hotPending: number;
  notifications: number;
  blocks: number;
  bans: number;
}

export interface SeedInfo {
  database: string;
  scale: number;
  stamp: string;
  seededAt: string;
  seedSeconds: number;
  reused: boolean;
  counts: SeedCounts;
  sizeMb: number;
}

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SEED_VERSION = 3;

/** Changes whenever the migrations or this generator change: a stale seed is rebuilt. */
export function seedStamp(scale: number): string {
  const h = createHash('sha256');
  h.update(`v${SEED_VERSION};scale=${scale};`);
  const dir = path.join(ROOT, 'migrations');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) h.update(f + readFileSync(path.join(dir, f)));
  const self = path.join(ROOT, 'bench', 'lib', 'seed.ts');
  try {
    h.update(readFileSync(self));
  } catch {
    /* compiled without sources: the version number still guards */
  }
  return h.digest('hex').slice(0, 16);
}

export function seedDatabaseName(scale: number): string {
  return `mr_bench_seed_s${String(scale).replace('.', '_')}`;
}

async function existingSeed(name: string, stamp: string): Promise<SeedInfo | null> {
  const exists = await withClient(ADMIN_URL, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount);
  if (!exists) return null;
  try {
    return await withClient(dbUrl(name), async (c) => {
      const r = await c.query(`SELECT info FROM bench_seed_info WHERE stamp = $1`, [stamp]);
      return r.rows[0] ? ({ ...r.rows[0].info, reused: true } as SeedInfo) : null;
    });
  } catch {
    return null;
  }
}

export async function ensureSeed(scale: number, force: boolean): Promise<SeedInfo> {
  const name = seedDatabaseName(scale);
  const stamp = seedStamp(scale);
  if (!force) {
    const found = await existingSeed(name, stamp);
    if (found) {
      log(`seed: reusing ${name} (stamp ${stamp}, seeded ${found.seededAt} in ${found.seedSeconds}s); --reseed rebuilds it`);
      return found;
    }
  }
  const t0 = Date.now();
  await withClient(ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  log(`seed: migrating ${name}`);
  const ds = createDataSource({ url: dbUrl(name), poolSize: 1 });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();

  const counts = await withClient(dbUrl(name), (c) => generate(c, scale));
  const sizeMb = await withClient(ADMIN_URL, async (c) => Math.round(Number((await c.query('SELECT pg_database_size($1) AS s', [name])).rows[0].s) / 1048576));
  const info: SeedInfo = {
    database: name,
    scale,
    stamp,
    seededAt: new Date().toISOString(),
    seedSeconds: Math.round((Date.now() - t0) / 100) / 10,
    reused: false,
    counts,
    sizeMb,
  };
  await withClient(dbUrl(name), async (c) => {
    await c.query('CREATE TABLE bench_seed_info (stamp text PRIMARY KEY, info jsonb NOT NULL)');
    await c.query('INSERT INTO bench_seed_info VALUES ($1, $2)', [stamp, info]);
  });
  await withClient(ADMIN_URL, (c) => c.query('CHECKPOINT'));
  log(`seed: done in ${info.seedSeconds}s, ${sizeMb} MB`, counts);
  return info;
}

const LOREM =
  'Hey! Loved your last video, the transition at the end was so smooth. How did you film it? ' +
  'I have been trying something similar for weeks 😅 would you mind sharing the settings? ' +
  'Also, are you going to the meetup on Saturday? A few of us are planning to go together, ' +
  'you should come. No pressure at all though. ¡Qué bueno! مرحبا The new sound you used is stuck in my head now. ' +
  'Ok talk soon, have a great day and thanks again for answering, it means a lot. 🙌 ' +
  'btw the link you sent earlier did not open for me, can you resend it? ';

async function timed(c: Client, label: string, sql: string, params: unknown[] = []): Promise<number> {
  const t = Date.now();
  const r = await c.query(sql, params);
  log(`seed: ${label} (${r.rowCount ?? 0} rows, ${((Date.now() - t) / 1000).toFixed(1)}s)`);
  return r.rowCount ?? 0;
}

async function generate(c: Client, scale: number): Promise<SeedCounts> {
  const U = Math.round(10_000 * scale);
  const F = Math.round(100_000 * scale);
  const C = Math.round(50_000 * scale);
  const M = Math.round(1_000_000 * scale);
  const R = Math.round(100_000 * scale);
  const HOT = Math.round(10_000 * scale);
  const R_OTHER = Math.max(0, R - C - HOT);
  const BLOCKS = Math.round(500 * scale);
  const BANS = Math.max(2, Math.round(20 * scale));
  // Messages in open conversations: everything but the intros of the other requests.
  const M_OPEN = M - HOT - R_OTHER;
  // Lengths 1 + floor(L * r^3): mean about 0.5 + L/4.
  const L = Math.max(1, Math.round(4 * (M_OPEN / C - 0.5)));

  await c.query(`SET synchronous_commit = off`);
  await c.query(`SET maintenance_work_mem = '512MB'`);
  await c.query(`SET work_mem = '128MB'`);
  await c.query(`SELECT setseed(0.42)`);

  // Keys and indexes come back after the bulk insert, exactly as the migrations made them.
  const tables = ['users', 'follows', 'conversations', 'conversation_members', 'messages', 'message_requests', 'notifications', 'event_counters', 'blocks', 'messaging_bans'];
  const constraints = (
    await c.query(
      `SELECT r.relname AS tbl, con.conname AS name, pg_get_constraintdef(con.oid) AS def
         FROM pg_constraint con JOIN pg_class r ON r.oid = con.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        WHERE n.nspname = 'public' AND con.contype IN ('p', 'u') AND r.relname = ANY($1)`,
      [tables],
    )
  ).rows as Array<{ tbl: string; name: string; def: string }>;
  const indexes = (
    await c.query(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY($1)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conname = i.indexname)`,
      [tables],
    )
  ).rows as Array<{ name: string; def: string }>;
  // Foreign keys of newer tables (revoked_tokens, hidden_words, ...) hang on these keys:
  // dropped first, put back last.
  const foreignKeys = (
    await c.query(
      `SELECT r.relname AS tbl, con.conname AS name, pg_get_constraintdef(con.oid) AS def
         FROM pg_constraint con JOIN pg_class r ON r.oid = con.conrelid JOIN pg_class f ON f.oid = con.confrelid
        WHERE con.contype = 'f' AND (f.relname = ANY($1) OR r.relname = ANY($1))`,
      [tables],
    )
  ).rows as Array<{ tbl: string; name: string; def: string }>;
  for (const k of foreignKeys) await c.query(`ALTER TABLE "${k.tbl}" DROP CONSTRAINT "${k.name}"`);
  for (const i of indexes) await c.query(`DROP INDEX "${i.name}"`);
  for (const k of constraints) await c.query(`ALTER TABLE "${k.tbl}" DROP CONSTRAINT "${k.name}"`);

  const passwordHash = await hash('bench password', { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });

  // ---- users -----------------------------------------------------------------------------
  // kind: 4 % aged 14, 3 % aged 16, the rest adults; 2 % of adults are new accounts (< 72 h).
  await c.query(`CREATE TEMP TABLE u AS
    SELECT n, gen_random_uuid() AS id,
           CASE WHEN n = 1 THEN 'adult' WHEN r1 < 0.04 THEN 'minor14' WHEN r1 < 0.07 THEN 'minor16' ELSE 'adult' END AS kind,
           (n > 1 AND r1 > 0.98) AS is_new, r2, r3
      FROM (SELECT n, random() r1, random() r2, random() r3 FROM generate_series(1, ${U}) n) x`);
  await timed(
    c,
    'users',
    `INSERT INTO users (id, username, display_name, avatar_url, birth_date, verified, role, password_hash, dm_policy, created_at)
     SELECT id, 'u' || lpad(n::text, 6, '0'), 'User ' || n,
            CASE WHEN r2 < 0.7 THEN 'https://cdn.example.com/avatars/' || n || '.jpg' END,
            (current_date - make_interval(years => CASE kind WHEN 'minor14' THEN 14 WHEN 'minor16' THEN 16 ELSE 18 + floor(r3 * 40)::int END)
                          - make_interval(days => 10 + floor(r2 * 300)::int))::date,
            n BETWEEN 2 AND 1 + ${Math.max(1, Math.round(U * 0.005))},
            CASE WHEN n = ${U} THEN 'MODERATOR' ELSE 'USER' END,
            $1,
            CASE WHEN kind = 'minor14' THEN 'NOBODY'
                 WHEN kind = 'minor16' THEN CASE WHEN r3 < 0.5 THEN 'NOBODY' ELSE 'FOLLOWING' END
                 WHEN n = 1 THEN 'EVERYONE'
                 WHEN r3 < 0.02 THEN 'NOBODY' WHEN r3 < 0.10 THEN 'FOLLOWING' ELSE 'EVERYONE' END,
            CASE WHEN is_new THEN now() - make_interval(hours => 1 + floor(r2 * 60)::int)
                 ELSE now() - make_interval(days => 31 + floor(r3 * 700)::int) END
       FROM u`,
    [passwordHash],
  );
  await c.query(`CREATE TEMP TABLE adults AS SELECT n, id FROM u WHERE kind = 'adult' AND NOT is_new`);
  await c.query(`CREATE INDEX ON adults (n)`);

  // ---- follows: followers uniform, followees by a power law -----------------------------
  const follows = await timed(
    c,
    'follows',
    `INSERT INTO follows (follower_id, followee_id, created_at)
     SELECT f.id, e.id, now() - random() * interval '400 days'
       FROM (SELECT a, b FROM (SELECT a, b, random() AS sk FROM (SELECT DISTINCT a, b FROM (
               SELECT 1 + floor(random() * ${U})::int AS a, 1 + floor(${U} * power(random(), 3))::int AS b
                 FROM generate_series(1, ${Math.round(F * 1.5)})) x WHERE a <> b) d OFFSET 0) e
             ORDER BY sk LIMIT ${F}) p
       JOIN u f ON f.n = p.a JOIN u e ON e.n = p.b`,
  );

  // ---- open conversations: one popular side, one uniform side -------------------------
  await c.query(`CREATE TEMP TABLE conv AS
    SELECT gen_random_uuid() AS id, least(ua.id, ub.id) AS lo, greatest(ua.id, ub.id) AS hi,
           CASE WHEN random() < 0.8 THEN ub.id ELSE ua.id END AS requester,
           1 + floor(${L} * power(random(), 3))::int AS k,
           now() - random() * interval '30 days' AS created_at,
           random() AS rr1, random() AS rr2, random() AS rr3
      FROM (SELECT x, y, random() AS sk FROM (SELECT DISTINCT least(a, b) AS x, greatest(a, b) AS y FROM (
              SELECT 1 + floor(${U} * power(random(), 2))::int AS a, 1 + floor(random() * ${U})::int AS b
                FROM generate_series(1, ${Math.round(C * 1.6)})) z WHERE a <> b) d OFFSET 0) p
      JOIN adults ua ON ua.n = p.x JOIN adults ub ON ub.n = p.y
     ORDER BY p.sk LIMIT ${C}`);
  // The last message lands somewhere between the first one and now; read pointers: 70 % of
  // members have read everything, the others are 1–3 messages behind.
  await c.query(`ALTER TABLE conv ADD COLUMN span interval, ADD COLUMN read_lo int, ADD COLUMN read_hi int`);
  await c.query(`UPDATE conv SET span = (now() - created_at) * (0.2 + 0.8 * rr1),
                                 read_lo = CASE WHEN rr2 < 0.7 THEN k ELSE greatest(0, k - 1 - floor(rr3 * 3)::int) END,
                                 read_hi = CASE WHEN rr3 < 0.7 THEN k ELSE greatest(0, k - 1 - floor(rr2 * 3)::int) END`);
  await c.query(`CREATE INDEX ON conv (id)`);
  await timed(
    c,
    'messages (open conversations)',
    `INSERT INTO messages (id, conversation_id, seq, sender_id, text, created_at, seen_at)
     SELECT gen_random_uuid(), x.cid, x.s, x.sender, x.text, x.at,
            CASE WHEN (x.sender = x.lo AND x.read_hi >= x.s) OR (x.sender = x.hi AND x.read_lo >= x.s) THEN x.at + interval '2 minutes' END
       FROM (SELECT c.id AS cid, s, c.lo, c.hi, c.read_lo, c.read_hi,
                    CASE WHEN s = 1 THEN c.requester WHEN random() < 0.5 THEN c.lo ELSE c.hi END AS sender,
                    substr($1, 1 + floor(random() * 300)::int, 12 + floor(random() * 110)::int) AS text,
                    c.created_at + c.span * (s::float8 / c.k) AS at
               FROM conv c CROSS JOIN LATERAL generate_series(1, c.k) s) x`,
    [LOREM],
  );
  await timed(
    c,
    'conversations (open)',
    `INSERT INTO conversations (id, user_low_id, user_high_id, status, last_seq, last_message_id, last_message_at, opened_at, created_at)
     SELECT c.id, c.lo, c.hi, 'OPEN', c.k, m.id, m.created_at, c.created_at + interval '10 minutes', c.created_at
       FROM conv c JOIN messages m ON m.conversation_id = c.id AND m.seq = c.k`,
  );
  await timed(
    c,
    'conversation members (open)',
    `INSERT INTO conversation_members (conversation_id, user_id, other_user_id, in_inbox, activity_at, last_read_seq, last_read_at)
     SELECT c.id, c.lo, c.hi, c.rr1 > 0.03, c.created_at + c.span, c.read_lo, CASE WHEN c.read_lo > 0 THEN c.created_at + c.span END FROM conv c
     UNION ALL
     SELECT c.id, c.hi, c.lo, c.rr2 > 0.03, c.created_at + c.span, c.read_hi, CASE WHEN c.read_hi > 0 THEN c.created_at + c.span END FROM conv c`,
  );
  await timed(
    c,
    'accepted requests',
    `INSERT INTO message_requests (id, sender_id, recipient_id, conversation_id, message_id, text, status, hidden, client_message_id, created_at, expires_at, accepted_at, deleted_at)
     SELECT gen_random_uuid(), c.requester, CASE WHEN c.requester = c.lo THEN c.hi ELSE c.lo END, c.id, m.id, m.text, 'ACCEPTED', false, NULL,
            m.created_at, m.created_at + interval '30 days', m.created_at + interval '10 minutes', NULL
       FROM conv c JOIN messages m ON m.conversation_id = c.id AND m.seq = 1`,
  );

  // ---- requests still in the folder ------------------------------------------------------
  const hot = (await c.query(`SELECT id FROM u WHERE n = 1`)).rows[0].id as string;
  // Every other adult without a conversation with the hot account asks it; where there are
  // too few (one pending request per pair), extra adult accounts are added for the purpose.
  await c.query(`CREATE TEMP TABLE hot_partners AS SELECT CASE WHEN lo = $1 THEN hi ELSE lo END AS id FROM conv WHERE lo = $1 OR hi = $1`, [hot]);
  const available = Number(
    (await c.query(`SELECT count(*) AS n FROM adults a WHERE a.n <> 1 AND NOT EXISTS (SELECT 1 FROM hot_partners h WHERE h.id = a.id)`)).rows[0].n,
  );
  const extra = Math.max(0, HOT - available);
  if (extra > 0) {
    await timed(
      c,
      `extra accounts for the hot account's ${HOT} pending requests`,
      `WITH x AS (SELECT ${U} + g AS n, gen_random_uuid() AS id FROM generate_series(1, ${extra}) g),
            ins AS (INSERT INTO users (id, username, display_name, avatar_url, birth_date, verified, role, password_hash, dm_policy, created_at)
                    SELECT id, 'u' || lpad(n::text, 6, '0'), 'User ' || n, NULL, (current_date - interval '25 years')::date, false, 'USER', $1, 'EVERYONE', now() - interval '90 days' FROM x)
       INSERT INTO u (n, id, kind, is_new, r2, r3) SELECT n, id, 'adult', false, random(), random() FROM x`,
      [passwordHash],
    );
    await c.query(`INSERT INTO adults SELECT n, id FROM u WHERE n > ${U}`);
  }
  await c.query(`CREATE TEMP TABLE req (
      id uuid, sender uuid, recipient uuid, category text, created_at timestamptz, hidden boolean, conv_id uuid, msg_id uuid, text text)`);
  await c.query(
    `INSERT INTO req
     SELECT gen_random_uuid(), a.id, $1::uuid, 'hot', now() - random() * interval '29 days', false, gen_random_uuid(), gen_random_uuid(),
            substr($2, 1 + floor(random() * 300)::int, 12 + floor(random() * 110)::int)
       FROM (SELECT n, id, random() AS sk FROM adults OFFSET 0) a
      WHERE a.n <> 1 AND NOT EXISTS (SELECT 1 FROM hot_partners h WHERE h.id = a.id)
      ORDER BY a.sk LIMIT ${HOT}`,
    [hot, LOREM],
  );
  // The rest: recipients by popularity (EVERYONE, not verified), senders uniform; new pairs only.
  await c.query(
    `INSERT INTO req
     SELECT gen_random_uuid(), s.id, r.id,
            CASE WHEN q < 0.625 THEN 'pending' WHEN q < 0.675 THEN 'hidden' WHEN q < 0.75 THEN 'deleted' WHEN q < 0.875 THEN 'withdrawn' ELSE 'expired' END,
            CASE WHEN q >= 0.875 THEN now() - interval '30 days' - random() * interval '1 day' ELSE now() - random() * interval '29 days' END,
            q >= 0.625 AND q < 0.675, gen_random_uuid(), gen_random_uuid(),
            CASE WHEN q >= 0.625 AND q < 0.675 THEN 'free followers at https://spam.example.com/' || p.a ELSE substr($1, 1 + floor(random() * 300)::int, 12 + floor(random() * 110)::int) END
       FROM (SELECT a, b, random() AS q, random() AS sk FROM (SELECT DISTINCT ON (least(a, b), greatest(a, b)) a, b FROM (
               SELECT 2 + floor(${U - 1} * power(random(), 2))::int AS a, 2 + floor(random() * ${U - 1})::int AS b
                 FROM generate_series(1, ${Math.round(R_OTHER * 1.8)})) z WHERE a <> b) d OFFSET 0) p
       JOIN u r ON r.n = p.a JOIN adults s ON s.n = p.b
       JOIN users ru ON ru.id = r.id AND ru.dm_policy = 'EVERYONE' AND NOT ru.verified AND r.kind = 'adult'
      WHERE NOT EXISTS (SELECT 1 FROM conv WHERE lo = least(s.id, r.id) AND hi = greatest(s.id, r.id))
        AND NOT EXISTS (SELECT 1 FROM req x WHERE x.sender = r.id AND x.recipient = s.id)
      ORDER BY p.sk LIMIT ${R_OTHER}`,
    [LOREM],
  );
  await timed(
    c,
    'request conversations',
    `INSERT INTO conversations (id, user_low_id, user_high_id, status, last_seq, last_message_id, last_message_at, opened_at, created_at)
     SELECT conv_id, least(sender, recipient), greatest(sender, recipient), 'REQUEST', 1, msg_id, created_at, NULL, created_at FROM req`,
  );
  await c.query(
    `INSERT INTO conversation_members (conversation_id, user_id, other_user_id, in_inbox, activity_at, last_read_seq, last_read_at)
     SELECT conv_id, sender, recipient, false, created_at, 0, NULL::timestamptz FROM req
     UNION ALL SELECT conv_id, recipient, sender, false, created_at, 0, NULL::timestamptz FROM req`,
  );
  await c.query(`INSERT INTO messages (id, conversation_id, seq, sender_id, text, created_at, seen_at) SELECT msg_id, conv_id, 1, sender, text, created_at, NULL FROM req`);
  await timed(
    c,
    'pending / hidden / deleted / withdrawn / expired requests',
    `INSERT INTO message_requests (id, sender_id, recipient_id, conversation_id, message_id, text, status, hidden, hidden_reason, client_message_id, created_at, expires_at, accepted_at, deleted_at)
     SELECT id, sender, recipient, conv_id, msg_id, text, CASE category WHEN 'withdrawn' THEN 'WITHDRAWN' ELSE 'PENDING' END, hidden,
            CASE WHEN hidden THEN 'LINK' END,
            CASE WHEN random() < 0.5 THEN 'seed-' || id END,
            created_at, created_at + interval '30 days', NULL, CASE WHEN category = 'deleted' THEN created_at + interval '1 day' END
       FROM req`,
  );
  const notifications = await timed(
    c,
    'notifications',
    `INSERT INTO notifications (id, user_id, type, actor_id, request_id, conversation_id, created_at, read_at)
     SELECT gen_random_uuid(), recipient, 'MESSAGE_REQUEST_RECEIVED', sender, id, conv_id, created_at,
            CASE WHEN category = 'deleted' OR random() < 0.4 THEN created_at + interval '1 hour' END
       FROM req WHERE category IN ('hot', 'pending', 'deleted')
     UNION ALL
     SELECT gen_random_uuid(), r.recipient_id, 'MESSAGE_REQUEST_RECEIVED', r.sender_id, r.id, r.conversation_id, r.created_at, r.accepted_at
       FROM message_requests r WHERE r.status = 'ACCEPTED'
     UNION ALL
     SELECT gen_random_uuid(), r.sender_id, 'MESSAGE_REQUEST_ACCEPTED', r.recipient_id, r.id, r.conversation_id, r.accepted_at,
            CASE WHEN random() < 0.9 THEN r.accepted_at + interval '1 hour' END
       FROM message_requests r WHERE r.status = 'ACCEPTED'`,
  );

  // ---- blocks, bans, event counters ------------------------------------------------------
  const blocks = await timed(
    c,
    'blocks',
    `INSERT INTO blocks (blocker_id, blocked_id, created_at)
     SELECT DISTINCT ON (a.id, b.id) a.id, b.id, now() - random() * interval '100 days'
       FROM (SELECT 2 + floor(random() * ${U - 1})::int AS x, 2 + floor(random() * ${U - 1})::int AS y FROM generate_series(1, ${BLOCKS})) p
       JOIN u a ON a.n = p.x JOIN u b ON b.n = p.y
      WHERE a.id <> b.id
        AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.user_low_id = least(a.id, b.id) AND c.user_high_id = greatest(a.id, b.id))`,
  );
  const bans = await timed(
    c,
    'messaging bans',
    `INSERT INTO messaging_bans (user_id, until, source, created_by_id, created_at)
     SELECT id, CASE WHEN r2 < 0.5 THEN now() + interval '7 days' END, 'MODERATOR', NULL, now() - interval '1 day'
       FROM u WHERE n > 1 AND n % ${Math.max(2, Math.floor(U / BANS))} = 7 LIMIT ${BANS}`,
  );
  await c.query(`INSERT INTO event_counters (user_id, last_seq) SELECT id, 50 + floor(random() * 2000)::int FROM u`);

  // ---- keys and indexes back, statistics -------------------------------------------------
  const t = Date.now();
  for (const k of constraints) await c.query(`ALTER TABLE "${k.tbl}" ADD CONSTRAINT "${k.name}" ${k.def}`);
  for (const i of indexes) await c.query(i.def);
  for (const k of foreignKeys) await c.query(`ALTER TABLE "${k.tbl}" ADD CONSTRAINT "${k.name}" ${k.def}`);
  log(`seed: keys and indexes rebuilt (${((Date.now() - t) / 1000).toFixed(1)}s)`);
  const tv = Date.now();
  await c.query('VACUUM (FREEZE, ANALYZE)');
  log(`seed: vacuum analyze (${((Date.now() - tv) / 1000).toFixed(1)}s)`);

  const count = async (sql: string) => Number((await c.query(sql)).rows[0].n);
  return {
    users: await count('SELECT count(*) AS n FROM users'),
    follows,
    openConversations: await count(`SELECT count(*) AS n FROM conversations WHERE status = 'OPEN'`),
    requestConversations: await count(`SELECT count(*) AS n FROM conversations WHERE status = 'REQUEST'`),
    messages: await count('SELECT count(*) AS n FROM messages'),
    requests: await count('SELECT count(*) AS n FROM message_requests'),
    hotPending: await count(`SELECT count(*) AS n FROM message_requests r JOIN users u ON u.id = r.recipient_id WHERE u.username = 'u000001' AND r.status = 'PENDING' AND NOT r.hidden AND r.deleted_at IS NULL`),
    notifications,
    blocks,
    bans,
  };
}

/** A fresh copy of the seed for one repetition (a file copy: seconds, not a re-seed). */
export async function cloneSeed(seed: string, name: string): Promise<void> {
  await withClient(ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name} TEMPLATE ${seed} STRATEGY FILE_COPY`);
  });
}

export async function dropDatabase(name: string): Promise<void> {
  await withClient(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
}
