import { randomUUID } from 'node:crypto';
import { startTestApp, codeOf, type GqlResult, type TestApp, type TestUser } from '../support/app';
import { openConversation } from '../support/conversations';
import { holdingPair, holdingTransaction, waitingOnPairLock, waitingOnRowLock } from '../support/locks';
import { until } from '../support/until';

/**
 * Group commit (issue 16): sendMessage calls waiting at the same moment are written in one
 * transaction. Each send must still answer exactly what the single path answers, alone,
 * whether its batch runs on the app's connections (send-batch.test.ts) or on the batch
 * thread (send-batch-thread.test.ts).
 */
const SEND = `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id text clientMessageId } }`;
type Sent = GqlResult<{ sendMessage: { id: string; text: string; clientMessageId: string | null } }>;
const RATE = { MESSAGE_RATE_BURST: '12', MESSAGE_RATE_PER_SECOND: '1' };

let batched: TestApp;
let single: TestApp;
/** Where this file's batches run (sendBatchCases). */
let onThread = false;

interface Call {
  label: string;
  user: TestUser;
  input: { conversationId: string; text: string; clientMessageId?: string; replyToId?: string };
}

const send = (t: TestApp, c: Call): Promise<Sent> => t.gql(SEND, { input: c.input }, c.user.token) as Promise<Sent>;
const answer = (res: Sent) => codeOf(res) ?? 'OK';

/** Every refusal sendMessage has, and sends that succeed beside them, set up on `t`. */
async function scenario(t: TestApp): Promise<{ calls: Call[]; conversations: string[]; repeatedId: string }> {
  const [a, b, c, d, e, f, g, h, banned, off, offTarget, blocker, limited] = await Promise.all(
    ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'banned', 'off', 'offTarget', 'blocker', 'limited'].map(() => t.makeUser()),
  );
  const ab = await openConversation(t, a, b);
  const cd = await openConversation(t, c, d);
  const ef = await openConversation(t, e, f);
  const bannedG = await openConversation(t, banned, g);
  const offH = await openConversation(t, off, h);
  const toOff = await openConversation(t, g, offTarget);
  const blocked = await openConversation(t, h, blocker);
  const limitedA = await openConversation(t, limited, a);
  await t.query(`INSERT INTO messaging_bans (user_id, until, source) VALUES ($1, NULL, 'MODERATOR')`, [banned.id]);
  await t.query(`UPDATE users SET dm_policy = 'NOBODY' WHERE id = ANY($1)`, [[off.id, offTarget.id]]);
  await t.query(`INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2)`, [blocker.id, h.id]);
  // A conversation that is still a request: its sender may not write again yet.
  const pending = await t.ok<{ sendMessageRequest: { conversation: { id: string } } }, unknown>(
    `mutation R($input: SendMessageRequestInput!) { sendMessageRequest(input: $input) { conversation { id } } }`,
    { input: { recipientId: d.id, text: 'hi there', clientMessageId: 'req' } },
    e.token,
  );
  const earlier = (await t.ok<{ sendMessage: { id: string } }, unknown>(SEND, { input: { conversationId: ab, text: 'first', clientMessageId: 'k-first' } }, a.token)).sendMessage.id;
  const elsewhere = (await t.ok<{ sendMessage: { id: string } }, unknown>(SEND, { input: { conversationId: cd, text: 'other' } }, c.token)).sendMessage.id;
  const calls: Call[] = [
    { label: 'ok a→b', user: a, input: { conversationId: ab, text: 'one', clientMessageId: 'k1' } },
    { label: 'ok b→a, same conversation', user: b, input: { conversationId: ab, text: 'two' } },
    { label: 'ok reply', user: b, input: { conversationId: ab, text: 'three', replyToId: earlier } },
    { label: 'ok c→d', user: c, input: { conversationId: cd, text: 'four' } },
    { label: 'repeat, same send', user: a, input: { conversationId: ab, text: 'first', clientMessageId: 'k-first' } },
    { label: 'repeat, another text', user: a, input: { conversationId: ab, text: 'not first', clientMessageId: 'k-first' } },
    { label: 'one key twice in the batch (1)', user: c, input: { conversationId: cd, text: 'twice', clientMessageId: 'k-twice' } },
    { label: 'one key twice in the batch (2)', user: c, input: { conversationId: cd, text: 'twice', clientMessageId: 'k-twice' } },
    { label: 'reply to another conversation', user: a, input: { conversationId: ab, text: 'x', replyToId: elsewhere } },
    { label: 'reply to no message', user: a, input: { conversationId: ab, text: 'x', replyToId: randomUUID() } },
    { label: 'not a participant', user: g, input: { conversationId: ab, text: 'x' } },
    { label: 'no such conversation', user: g, input: { conversationId: randomUUID(), text: 'x' } },
    { label: 'malformed conversation id', user: g, input: { conversationId: 'nope', text: 'x' } },
    { label: 'still a request', user: e, input: { conversationId: pending.sendMessageRequest.conversation.id, text: 'x' } },
    { label: 'banned sender', user: banned, input: { conversationId: bannedG, text: 'x' } },
    { label: 'own messages off', user: off, input: { conversationId: offH, text: 'x' } },
    { label: 'recipient messages off', user: g, input: { conversationId: toOff, text: 'x' } },
    { label: 'blocked', user: h, input: { conversationId: blocked, text: 'x' } },
    { label: 'empty text', user: d, input: { conversationId: cd, text: '   ' } },
    { label: 'bad key', user: d, input: { conversationId: cd, text: 'x', clientMessageId: 'x'.repeat(65) } },
    ...Array.from({ length: 13 }, (_, k) => k + 1).map((n) => ({ label: `rate ${n}`, user: limited, input: { conversationId: limitedA, text: `r${n}` } })),
  ];
  return { calls, conversations: [ab, cd, ef, bannedG, offH, toOff, blocked, limitedA], repeatedId: earlier };
}

/** The single path's answer to sends that ran in parallel, read alike: one answer per label (the rate-limited sender's as a count). */
function summary(calls: Call[], answers: Sent[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rate: string[] = [];
  calls.forEach((c, i) => {
    if (c.label.startsWith('rate')) rate.push(answer(answers[i]));
    else out[c.label] = answer(answers[i]);
  });
  out.rate = rate.sort();
  return out;
}

async function contiguous(t: TestApp, conversations: string[]): Promise<void> {
  const rows = await t.query<{ id: string; last_seq: string; n: string; max: string | null; min: string | null }>(
    `SELECT c.id, c.last_seq, count(m.id) AS n, max(m.seq) AS max, min(m.seq) AS min
       FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id WHERE c.id = ANY($1) GROUP BY c.id`,
    [conversations],
  );
  for (const r of rows) {
    expect(r.max ?? '0').toBe(r.last_seq);
    expect(Number(r.n)).toBe(r.max === null ? 0 : Number(r.max) - Number(r.min) + 1);
  }
  const gaps = await t.query<{ user_id: string }>(
    `SELECT user_id FROM events GROUP BY user_id HAVING count(*) <> max(seq) - min(seq) + 1
      UNION ALL SELECT c.user_id FROM event_counters c WHERE c.last_seq <> (SELECT coalesce(max(seq), c.last_seq) FROM events e WHERE e.user_id = c.user_id)`,
  );
  expect(gaps).toEqual([]);
}

/**
 * The batching app's one batch in flight, held on a pair lock: whatever is sent until
 * `release()` queues behind it and goes as the next batch, all together. `release()`
 * lets it commit (its send must succeed).
 */
async function batchHeldAhead(t: TestApp): Promise<{ release(): Promise<void> }> {
  const [x, y] = [await t.makeUser(), await t.makeUser()];
  const xy = await openConversation(t, x, y);
  const held = await holdingPair(t, x, y);
  let answered = false;
  const ahead = t.gql(SEND, { input: { conversationId: xy, text: 'ahead' } }, x.token).finally(() => (answered = true));
  await waitingOnPairLock(t, () => answered);
  return {
    release: async () => {
      await held.commit();
      expect(codeOf(await ahead)).toBeUndefined();
    },
  };
}

const queued = (t: TestApp, n: number) => until(`${n} sends to queue behind the held batch`, () => t.app.services.sendBatcher.stats().queued === n);

/** Runs `calls` in parallel on the batching app as one batch. */
async function asOneBatch(t: TestApp, calls: Call[]): Promise<Sent[]> {
  const ahead = await batchHeldAhead(t);
  const before = t.app.services.sendBatcher.stats();
  const answers = Promise.all(calls.map((c) => send(t, c)));
  await queued(t, calls.length - calls.filter((c) => /malformed|empty|bad key/.test(c.label)).length);
  await ahead.release();
  const result = await answers;
  const after = t.app.services.sendBatcher.stats();
  expect(after.batches - before.batches).toBe(2); // the one held, and all of these
  expect(after.threaded - before.threaded).toBe(onThread ? 2 : 0);
  return result;
}

/**
 * Sends `calls` as one batch that passes the pair lock, counts the attempts and stops in
 * its append, waiting on the conversation's row (held here); then `signal`s that batch's
 * backend (pg_terminate_backend: its connection dies; pg_cancel_backend: its statement
 * fails) and lets the row go. Resolves with the answers.
 */
async function batchInterrupted(t: TestApp, conversationId: string, calls: Call[], signal: 'pg_terminate_backend' | 'pg_cancel_backend'): Promise<Sent[]> {
  const ahead = await batchHeldAhead(t);
  const held = await holdingTransaction(t, async (tx) => {
    await tx.manager.query('SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE', [conversationId]);
  });
  let answered = false;
  const answers = Promise.all(calls.map((c) => send(t, c))).finally(() => (answered = true));
  await queued(t, calls.length);
  await ahead.release();
  await waitingOnRowLock(t, () => answered);
  const signalled = await t.query<{ ok: boolean }>(
    `SELECT ${signal}(pid) AS ok FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%unnest($1::int[]%'`,
  );
  expect(signalled).toEqual([{ ok: true }]);
  await held.commit();
  return answers;
}

/**
 * The cases, on the app's own connections or on the batch thread (`variant.env`): each test
 * file that calls this runs them all against its own apps.
 */
export function sendBatchCases(variant: { env: Record<string, string>; onThread: boolean }): void {
  onThread = variant.onThread;
  beforeAll(async () => {
    // One batch in flight: what queues behind it goes as the next batch, all together.
    [batched, single] = await Promise.all([startTestApp({ ...RATE, ...variant.env, SEND_BATCHES_IN_FLIGHT: '1' }), startTestApp({ ...RATE, SEND_BATCHING: 'false' })]);
  });

  afterAll(async () => {
    await Promise.all([batched.close(), single.close()]);
  });

  it('answers each send in one batch exactly as the single path answers it alone: every refusal code, replays, rate limit', async () => {
    const [onBatch, onSingle] = await Promise.all([scenario(batched), scenario(single)]);
    const batchAnswers = await asOneBatch(batched, onBatch.calls);
    const singleAnswers = await Promise.all(onSingle.calls.map((c) => send(single, c)));

    const expected = {
      'ok a→b': 'OK',
      'ok b→a, same conversation': 'OK',
      'ok reply': 'OK',
      'ok c→d': 'OK',
      'repeat, same send': 'OK',
      'repeat, another text': 'IDEMPOTENCY_KEY_REUSED',
      'one key twice in the batch (1)': 'OK',
      'one key twice in the batch (2)': 'OK',
      'reply to another conversation': 'NOT_FOUND',
      'reply to no message': 'NOT_FOUND',
      'not a participant': 'NOT_FOUND',
      'no such conversation': 'NOT_FOUND',
      'malformed conversation id': 'NOT_FOUND',
      'still a request': 'REQUEST_PENDING',
      'banned sender': 'MESSAGING_BANNED',
      'own messages off': 'OWN_MESSAGING_DISABLED',
      'recipient messages off': 'RECIPIENT_UNAVAILABLE',
      blocked: 'RECIPIENT_UNAVAILABLE',
      'empty text': 'BAD_USER_INPUT',
      'bad key': 'BAD_USER_INPUT',
      rate: [...Array.from({ length: 12 }, () => 'OK'), 'RATE_LIMITED'],
    };
    expect(summary(onSingle.calls, singleAnswers)).toEqual(expected);
    expect(summary(onBatch.calls, batchAnswers)).toEqual(expected);

    const byLabel = (label: string) => batchAnswers[onBatch.calls.findIndex((c) => c.label === label)];
    // A repeat answers the message already sent; one key twice in a batch is one message.
    expect(byLabel('repeat, same send').data?.sendMessage.id).toBe(onBatch.repeatedId);
    expect(byLabel('one key twice in the batch (2)').data?.sendMessage.id).toBe(byLabel('one key twice in the batch (1)').data?.sendMessage.id);
    const [{ n }] = await batched.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE client_message_id = 'k-twice'`);
    expect(n).toBe('1');
    const limitedAny = onBatch.calls.map((c, i) => (c.label.startsWith('rate') ? batchAnswers[i] : null)).find((r) => r && codeOf(r) === 'RATE_LIMITED');
    expect((limitedAny!.errors![0].extensions as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(1);
    // The refused wrote nothing; the sent are in order with no gap, their events too.
    for (const t of [batched, single]) {
      const refusedTexts = await t.query(`SELECT text FROM messages WHERE text IN ('x', 'not first', '   ')`);
      expect(refusedTexts).toEqual([]);
    }
    await contiguous(batched, onBatch.conversations);
    // Sent in the batch's order within a conversation, each participant's events in that order too.
    const order = await batched.query<{ text: string }>(`SELECT text FROM messages WHERE conversation_id = $1 ORDER BY seq`, [onBatch.conversations[0]]);
    expect(order.map((r) => r.text)).toEqual(['hello', 'first', 'one', 'two', 'three']);
  });

  // On the app's connections only: the batch thread runs one batch at a time, each taking
  // every send that came while the one before ran (asOneBatch shows it).
  if (!onThread) {
    it('while a batch is in flight, later sends wait for it up to SEND_BATCH_HOLD_MS, then go beside it as one batch', async () => {
      // A long hold, so that the parallel sends surely arrive within it; no shedding meanwhile.
      const held = await startTestApp({ ...RATE, ...variant.env, SEND_BATCHES_IN_FLIGHT: '3', SEND_BATCH_HOLD_MS: '2000', SEND_QUEUE_MAX_MS: '10000' });
      try {
        const ahead = await batchHeldAhead(held);
        const users = await Promise.all(Array.from({ length: 6 }, () => held.makeUser()));
        const conversations = await Promise.all([0, 2, 4].map((i) => openConversation(held, users[i], users[i + 1])));
        const before = held.app.services.sendBatcher.stats();
        const answers = Promise.all(conversations.map((c, k) => send(held, { label: `beside ${k}`, user: users[2 * k], input: { conversationId: c, text: `beside ${k}` } })));
        // With no hold the first of them would start a batch at once: they would never all wait.
        await queued(held, 3);
        // The held batch never commits before they are answered: the hold ran out and they
        // went beside it, all three in one batch.
        expect((await answers).map(answer)).toEqual(['OK', 'OK', 'OK']);
        expect(held.app.services.sendBatcher.stats().batches - before.batches).toBe(1);
        await ahead.release();
      } finally {
        await held.close();
      }
    });
  }

  it('refuses at once a send that would wait over SEND_QUEUE_MAX_MS behind the batches ahead, though the oldest waiting has just arrived', async () => {
    // Batches of 2, one at a time: each send queued behind two others waits a whole batch more.
    const t = await startTestApp({ ...RATE, ...variant.env, SEND_BATCHES_IN_FLIGHT: '1', SEND_BATCH_MAX: '2', SEND_QUEUE_MAX_MS: '1000' });
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      // The batcher learns how long a batch takes from the batches it ran: make its first one
      // take a little over 800 ms (held on a pair lock). Half a batch (the one in flight) fits
      // in 1000 ms, a batch and a half does not, with room for a loaded machine's delays.
      const slow = await batchHeldAhead(t);
      await pause(800);
      await slow.release();

      const ahead = await batchHeldAhead(t);
      const users = await Promise.all(Array.from({ length: 6 }, () => t.makeUser()));
      const conversations = await Promise.all([0, 2, 4].map((i) => openConversation(t, users[i], users[i + 1])));
      const call = (k: number): Call => ({ label: `queued ${k}`, user: users[2 * k], input: { conversationId: conversations[k], text: `queued ${k}` } });
      const firstTwo = Promise.all([0, 1].map((k) => send(t, call(k))));
      await queued(t, 2);
      // The third would wait for the batch in flight and then for the first two's batch.
      const third = await Promise.race([send(t, call(2)), pause(2000).then(() => null)]);
      expect(third && codeOf(third)).toBe('SERVICE_UNAVAILABLE');
      expect((third!.errors![0].extensions as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(1);

      await ahead.release();
      expect((await firstTwo).map(answer)).toEqual(['OK', 'OK']);
      expect(await t.query(`SELECT 1 FROM messages WHERE text = 'queued 2'`)).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('sees a block that commits while the batch waits for the pair', async () => {
    const [a, b] = [await batched.makeUser(), await batched.makeUser()];
    const c = await openConversation(batched, a, b);
    const held = await holdingPair(batched, a, b, (tx) => batched.app.services.relationships.blockInTx(tx, b.id, a.id));
    let answered = false;
    const res = send(batched, { label: '', user: a, input: { conversationId: c, text: 'after the block' } }).finally(() => (answered = true));
    await waitingOnPairLock(batched, () => answered);
    await held.commit();
    expect(codeOf(await res)).toBe('RECIPIENT_UNAVAILABLE');
    expect(await batched.query(`SELECT 1 FROM messages WHERE text = 'after the block'`)).toEqual([]);
  });

  it('two instances batching sends over crossing pairs never deadlock, and leave seqs and cursors gap-free', async () => {
    const other = await startTestApp({ ...RATE, ...variant.env, SEND_BATCH_MAX: '8' }, { databaseUrl: batched.config.databaseUrl });
    try {
      const users = await Promise.all(Array.from({ length: 6 }, () => batched.makeUser()));
      const conversations: Array<{ id: string; a: TestUser; b: TestUser }> = [];
      for (let i = 0; i < users.length; i++) {
        for (let j = i + 1; j < users.length; j++) conversations.push({ id: await openConversation(batched, users[i], users[j]), a: users[i], b: users[j] });
      }
      const [{ deadlocks: before }] = await batched.query<{ deadlocks: string }>(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`);
      const instances = [batched, other];
      const statsBefore = instances.map((t) => t.app.services.sendBatcher.stats());
      // Each instance walks the pairs in the opposite order, both participants writing.
      const calls = (t: TestApp, reverse: boolean) => {
        const list = reverse ? [...conversations].reverse() : conversations;
        return list.flatMap((c, i) => [c.a, c.b].map((u, k) => t.gql(SEND, { input: { conversationId: c.id, text: `m${i}.${k}`, clientMessageId: `${reverse}-${c.id}-${k}` } }, u.token) as Promise<Sent>));
      };
      const answers = await Promise.all([...calls(batched, false), ...calls(other, true)]);
      expect(answers.map(answer).filter((a) => a !== 'OK')).toEqual([]);
      const [{ deadlocks: after }] = await batched.query<{ deadlocks: string }>(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`);
      expect(after).toBe(before);
      // PostgreSQL's counter may lag; the batchers' own say at once: no batch was run again
      // (after a deadlock or serialization failure) nor fell back to the single path.
      instances.forEach((t, k) => {
        const now = t.app.services.sendBatcher.stats();
        expect([now.retried - statsBefore[k].retried, now.fellBack - statsBefore[k].fellBack]).toEqual([0, 0]);
        expect(now.sends - statsBefore[k].sends).toBe(conversations.length * 2);
      });
      await contiguous(batched, conversations.map((c) => c.id));
      const [{ n }] = await batched.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE conversation_id = ANY($1) AND client_message_id IS NOT NULL`, [conversations.map((c) => c.id)]);
      expect(Number(n)).toBe(conversations.length * 4);
    } finally {
      await other.close();
    }
  });

  it('a batch whose connection is killed mid-statement leaves nothing partial; a keyed send is resent and its retry answers the committed message; an unkeyed one fails retryable, never posted twice', async () => {
    const [a, b] = [await batched.makeUser(), await batched.makeUser()];
    const c = await openConversation(batched, a, b);
    const keyed: Call = { label: '', user: a, input: { conversationId: c, text: 'killed', clientMessageId: 'k-killed' } };
    const unkeyed: Call = { label: '', user: b, input: { conversationId: c, text: 'killed, no key' } };
    const [firstKeyed, firstUnkeyed] = await batchInterrupted(batched, c, [keyed, unkeyed], 'pg_terminate_backend');
    // Without a key the server cannot know whether a lost COMMIT went through: it answers as
    // the single path does, and posts nothing of its own accord.
    expect(codeOf(firstUnkeyed)).toBe('SERVICE_UNAVAILABLE');
    expect(await batched.query(`SELECT 1 FROM messages WHERE text = 'killed, no key'`)).toEqual([]);
    const retry = await send(batched, keyed);
    expect(codeOf(retry)).toBeUndefined();
    const rows = await batched.query<{ id: string }>(`SELECT id FROM messages WHERE client_message_id = 'k-killed'`);
    expect(rows).toHaveLength(1);
    expect(retry.data!.sendMessage.id).toBe(rows[0].id);
    // The keyed send was resent by the single path, answering that same message.
    expect(firstKeyed.data?.sendMessage.id).toBe(rows[0].id);
    // The killed transaction's attempts were rolled back with it: each call counted once.
    const points = await batched.query<{ key: string; points: number }>(`SELECT key, points FROM rate_limits WHERE key = ANY($1) ORDER BY key`, [[`send:${a.id}`, `send:${b.id}`]]);
    expect(Object.fromEntries(points.map((p) => [p.key, p.points]))).toEqual({ [`send:${a.id}`]: 2 });
    await contiguous(batched, [c]);
  });

  it('a batch whose statement fails is rolled back and its sends answered by the single path; the batch after it commits as a batch', async () => {
    const [a, b] = [await batched.makeUser(), await batched.makeUser()];
    const c = await openConversation(batched, a, b);
    const before = batched.app.services.sendBatcher.stats();
    // Cancelled, not killed: the connection lives on, inside a failed transaction until rolled back.
    const call: Call = { label: '', user: a, input: { conversationId: c, text: 'cancelled', clientMessageId: 'k-cancelled' } };
    const [first] = await batchInterrupted(batched, c, [call], 'pg_cancel_backend');
    expect(codeOf(first)).toBeUndefined();
    const after = batched.app.services.sendBatcher.stats();
    expect(after.fellBack - before.fellBack).toBe(1);
    // The next send goes as a batch of its own and commits.
    const next = await send(batched, { label: '', user: b, input: { conversationId: c, text: 'next' } });
    expect(codeOf(next)).toBeUndefined();
    // A connection returned to the pool inside the failed transaction would fail the batch it carries next, which would fall back.
    const { batches, fellBack } = batched.app.services.sendBatcher.stats();
    expect([batches - after.batches, fellBack - after.fellBack]).toEqual([1, 0]);
    // After the intro that opened the conversation: each send once, in order.
    const texts = await batched.query<{ text: string }>(`SELECT text FROM messages WHERE conversation_id = $1 ORDER BY seq OFFSET 1`, [c]);
    expect(texts.map((r) => r.text)).toEqual(['cancelled', 'next']);
    // The rolled-back batch's attempt went with it: each call counted once.
    const points = await batched.query<{ key: string; points: number }>(`SELECT key, points FROM rate_limits WHERE key = ANY($1) ORDER BY key`, [[`send:${a.id}`, `send:${b.id}`]]);
    expect(Object.fromEntries(points.map((p) => [p.key, p.points]))).toEqual({ [`send:${a.id}`]: 1, [`send:${b.id}`]: 1 });
    await contiguous(batched, [c]);
  });

  it('a batch costs the same statements whatever its size, and its live deliveries none', async () => {
    const counted = async (size: number) => {
      const users = await Promise.all(Array.from({ length: size * 2 }, () => batched.makeUser()));
      const pairs = await Promise.all(Array.from({ length: size }, (_, i) => openConversation(batched, users[2 * i], users[2 * i + 1])));
      const live = await Promise.all(pairs.map((_, i) => batched.subscribe(`subscription { messageReceived { message { id text sender { id } } } }`, {}, users[2 * i + 1].token)));
      const ahead = await batchHeldAhead(batched);
      // From here: the held transaction's COMMIT, the rest of the batch ahead, and the batch of `size`.
      batched.sql.reset();
      const answers = Promise.all(pairs.map((c, i) => send(batched, { label: '', user: users[2 * i], input: { conversationId: c, text: `sized ${i}` } })));
      await queued(batched, size);
      await ahead.release();
      expect((await answers).map(answer)).toEqual(pairs.map(() => 'OK'));
      await until('every recipient to hear of its message', () => live.every((s) => s.events.length === 1));
      const count = batched.sql.count;
      await Promise.all(live.map((s) => s.close()));
      return count;
    };
    const [two, twenty] = [await counted(2), await counted(20)];
    expect(twenty).toBe(two);
    // COMMIT (the held transaction); the batch ahead's append and COMMIT (on the thread its
    // BEGIN and lock too: a thread's batch is logged once it has committed); BEGIN, lock and
    // count, facts and append, COMMIT for the batch; nothing for 2 or 20 deliveries.
    expect(two).toBe(onThread ? 9 : 7);
  });
}
