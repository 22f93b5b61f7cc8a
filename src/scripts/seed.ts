/**
 * `npm run seed`: demo accounts and conversations, so the IDE has something to show.
 * Same database rules as the server (DATABASE_URL, or the embedded PostgreSQL under
 * DATA_DIR). Idempotent: existing accounts are kept, requests and messages carry
 * clientMessageIds (a repeat writes nothing), accepting and marking seen again are no-ops.
 *
 * Everything goes through the services, as a user of the API would do it; the only raw
 * SQL backdates account creation, so that established accounts are not "new" (their
 * requests would otherwise be filtered into hidden requests).
 */
import 'reflect-metadata';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../config';
import { createLogger } from '../lib/logger';
import { EMBEDDED_DATABASE, openDatabase } from '../db/database';
import { createServices, type Services } from '../services';
import { systemClock, DAY_MS } from '../lib/clock';
import { DirectMessagePolicy, Role, type User } from '../modules/users/user.entity';
import { createBus } from '../graphql/pubsub';

export const DEMO_PASSWORD = 'demo-password';

interface DemoAccount {
  username: string;
  displayName: string;
  /** Age in whole years today (plus ~100 days, so no birthday is near). */
  age: number;
  policy?: DirectMessagePolicy;
  verified?: boolean;
  role?: Role;
  /** A brand-new account (not backdated): its requests are hidden. */
  isNew?: boolean;
  note: string;
}

export const DEMO_ACCOUNTS: DemoAccount[] = [
  { username: 'maya', displayName: 'Maya Lin', age: 27, note: 'adult, EVERYONE: 3 pending requests, 3 hidden ones (one by her hidden word "spoiler"), 1 recently deleted (restorable), an open conversation with theo (1 unread), a muted one with kai' },
  { username: 'theo', displayName: 'Theo Park', age: 31, note: 'adult: open conversation with maya' },
  { username: 'nova', displayName: 'Nova ✦', age: 29, verified: true, note: 'verified: only accounts nova follows (maya) may send requests; has a pending request to maya' },
  { username: 'quinn', displayName: 'Quinn', age: 34, policy: DirectMessagePolicy.FOLLOWING, note: 'adult, FOLLOWING ("People You Follow"): follows theo only' },
  { username: 'leo.16', displayName: 'Leo', age: 16, policy: DirectMessagePolicy.FOLLOWING, note: '16 years old, FOLLOWING (the most a 16–17-year-old may choose): follows maya' },
  { username: 'sam.15', displayName: 'Sam', age: 15, note: '15 years old: no direct messages (NOBODY, cannot send or receive)' },
  { username: 'jon', displayName: 'Jon Ortega', age: 24, note: 'adult: pending request to maya' },
  { username: 'priya', displayName: 'Priya Shah', age: 22, note: 'adult: pending request to maya' },
  { username: 'spam.links', displayName: 'Free Followers', age: 40, note: 'request to maya with a link: hidden' },
  { username: 'fresh.face', displayName: 'Fresh Face', age: 20, isNew: true, note: 'account created just now: its request to maya is hidden' },
  { username: 'dana', displayName: 'Dana Reyes', age: 26, note: 'request to maya with her hidden word "spoiler": hidden ("why am I seeing this": HIDDEN_WORD)' },
  { username: 'ravi', displayName: 'Ravi Menon', age: 30, note: "request to maya that she deleted: in her recently deleted requests, restorable; ravi still sees PENDING" },
  { username: 'kai', displayName: 'Kai', age: 28, note: 'open conversation with maya, muted by her: his unread message counts in no badge' },
  { username: 'mod', displayName: 'Moderation Team', age: 35, role: Role.MODERATOR, note: 'moderator: reports, bans, setVerified' },
];

export interface SeedResult {
  created: string[];
  existing: string[];
  accounts: DemoAccount[];
  password: string;
}

/** A date of birth for someone `years` old (and ~100 days) at `now`. */
function birthDateFor(years: number, now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth(), now.getUTCDate() - 100));
  return d.toISOString().slice(0, 10);
}

export async function seed(services: Services, dataSource: DataSource): Promise<SeedResult> {
  const now = services.clock.now();
  const created: string[] = [];
  const existing: string[] = [];
  const users = new Map<string, User>();

  for (const account of DEMO_ACCOUNTS) {
    const found = await services.users.byUsername(account.username);
    if (found) {
      existing.push(account.username);
      users.set(account.username, found);
      continue;
    }
    const { user } = await services.users.signUp({
      username: account.username,
      password: DEMO_PASSWORD,
      displayName: account.displayName,
      birthDate: birthDateFor(account.age, now),
    }, null);
    created.push(account.username);
    users.set(account.username, user);
    if (!account.isNew) {
      // No service backdates an account: established accounts are 60 days old.
      await dataSource.query('UPDATE users SET created_at = $2 WHERE id = $1', [user.id, new Date(now.getTime() - 60 * DAY_MS)]);
    }
    if (account.policy) await services.users.updateMessagingSettings(user.id, { directMessagePolicy: account.policy });
    if (account.verified) await services.users.setVerified(user.id, true);
    if (account.role) await services.users.setRole(account.username, account.role);
  }
  const id = (username: string) => users.get(username)!.id;

  // Follows (idempotent): who may reach the FOLLOWING and verified accounts.
  await services.relationships.follow(id('leo.16'), id('maya'));
  await services.relationships.follow(id('nova'), id('maya'));
  await services.relationships.follow(id('quinn'), id('theo'));
  await services.relationships.follow(id('theo'), id('maya'));

  // Requests (idempotent by clientMessageId: a repeat returns the same request).
  const request = (from: string, to: string, text: string) =>
    services.requestSend.send(id(from), { recipientId: id(to), text, clientMessageId: `seed:${from}->${to}` });

  // The open conversation: theo's request, accepted, then a few messages.
  const theos = await request('theo', 'maya', 'Hi Maya! Saw your climbing video from Yosemite. Which route was that?');
  const conversationId = await services.requests.accept(id('maya'), theos.id);
  const message = (from: string, key: string, text: string) =>
    services.messages.send(id(from), { conversationId, text, clientMessageId: `seed:${key}` });
  await message('maya', 'maya-1', 'Hey Theo! That was Snake Dike on Half Dome. 🧗');
  await services.messages.markSeen(id('theo'), conversationId);
  const theo2 = await message('theo', 'theo-2', 'Nice! I have been wanting to try it. How long did it take you?');
  await message('theo', 'theo-3', 'Also: any tips for the approach?');
  // maya read up to theo's question, not the last one: one unread message in her inbox.
  await services.messages.markSeen(id('maya'), conversationId, theo2.id);

  // maya's Requests folder: three pending requests, one from a verified account.
  await request('jon', 'maya', 'Hey! Are you doing the bouldering meetup on Saturday?');
  await request('priya', 'maya', 'Hi Maya, I run a small gear shop and would love to collaborate.');
  await request('nova', 'maya', 'Loved your last video, want to film something together?');
  // Hidden requests: one with a link, one from an account created minutes ago.
  await request('spam.links', 'maya', 'Get 10k followers today at www.free-followers.example.com');
  await request('fresh.face', 'maya', 'hi! just joined, your videos are great');

  // The controls (SPEC §8). maya's hidden words: dana's request matches one.
  await services.hiddenWords.add(id('maya'), ['spoiler']);
  await request('dana', 'maya', 'No spoiler, but the ending of your last video is wild!');
  // A request maya deleted: ravi is not told, and maya may restore it until it would expire.
  const ravis = await request('ravi', 'maya', 'Hey Maya, want to join our Thursday climbing club?');
  if (!ravis.deletedAt) await services.requests.delete(id('maya'), ravis.id, false);
  // A muted conversation: its messages arrive, but light no badge and no dot.
  const kais = await request('kai', 'maya', "Hi! I'm the one who filmed you at the crag last week.");
  const kaiConversation = await services.requests.accept(id('maya'), kais.id);
  await services.conversations.setMuted(id('maya'), kaiConversation, true);
  await services.messages.send(id('kai'), { conversationId: kaiConversation, text: 'Sending you the clips tonight!', clientMessageId: 'seed:kai-1' });

  return { created, existing, accounts: DEMO_ACCOUNTS, password: DEMO_PASSWORD };
}

async function main(): Promise<number> {
  let config = loadConfig();
  if (!config.databaseUrl) {
    // `npm start` may be running on the embedded database: seed it through its server.
    const { runningEmbeddedUrl } = require('../db/embedded') as typeof import('../db/embedded');
    const running = runningEmbeddedUrl(path.join(config.dataDir, 'pg'), EMBEDDED_DATABASE);
    if (running) config = { ...config, databaseUrl: running };
  }
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const db = await openDatabase(config, logger);
  // With REDIS_URL, running servers' subscribers hear the seeded requests as they happen.
  const bus = createBus(config.redisUrl, logger);
  try {
    const services = createServices({ dataSource: db.dataSource, config, clock: systemClock, pubsub: bus.pubsub, logger });
    const result = await seed(services, db.dataSource);
    const where = !config.databaseUrl ? `the embedded database under ${config.dataDir}` : process.env.DATABASE_URL ? 'DATABASE_URL' : 'the running embedded database';
    console.log(`Seeded ${where}.`);
    console.log(`Created ${result.created.length} account(s)${result.existing.length ? `; ${result.existing.length} already existed (kept)` : ''}.\n`);
    const width = Math.max(...result.accounts.map((a) => a.username.length));
    for (const a of result.accounts) console.log(`  ${a.username.padEnd(width)}  ${a.note}`);
    console.log(`\nEvery demo account's password: ${result.password}`);
    console.log('Log in with: mutation { logIn(input: { username: "maya", password: "' + result.password + '" }) { token } }');
    return 0;
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  } finally {
    await bus.close();
    await db.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
