import { execFileSync } from 'node:child_process';
import type { Worker } from 'node:worker_threads';
import { codeOf, startTestApp, type GqlResult, type TestApp } from '../support/app';
import { openConversation } from '../support/conversations';
import { holdingPair, waitingOnPairLock } from '../support/locks';
import { until } from '../support/until';
import { sendBatchCases } from './send-batch.cases';

// Batches on the batch thread (the default).
sendBatchCases({ env: {}, onThread: true });

const SEND = `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id text } }`;
type Sent = GqlResult<{ sendMessage: { id: string; text: string } }>;
type Input = { conversationId: string; text: string; clientMessageId?: string };

const send = (t: TestApp, input: Input, token: string) => t.gql(SEND, { input }, token) as Promise<Sent>;

/** The app's batch thread, to make it fail as a crash or running out of memory would. */
function batchWorker(t: TestApp): Worker {
  const batcher = t.app.services.sendBatcher as unknown as { thread: { worker: Worker | null } };
  return batcher.thread.worker!;
}

describe('a batch thread that dies with a batch in flight', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** Sends `input` as a batch that waits on its pair's lock, ends the thread meanwhile, then lets the pair go. */
  async function sentAsTheThreadDies(input: Input, token: string, pair: Parameters<typeof holdingPair>): Promise<Sent> {
    const held = await holdingPair(...pair);
    let answered = false;
    const res = send(t, input, token).finally(() => (answered = true));
    await waitingOnPairLock(t, () => answered);
    await batchWorker(t).terminate();
    await held.commit();
    return res;
  }

  it('answers as after a lost connection: a keyed send is resent and posted once, an unkeyed one fails retryable and is not posted; the next batch runs on a new thread', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const c = await openConversation(t, a, b);
    // A first batch starts the thread.
    expect(codeOf(await send(t, { conversationId: c, text: 'before' }, a.token))).toBeUndefined();
    const before = t.app.services.sendBatcher.stats();

    // The thread's connection closed with it: PostgreSQL rolled the batch back, but the
    // server cannot tell that from a COMMIT lost on the way.
    const keyed = await sentAsTheThreadDies({ conversationId: c, text: 'keyed', clientMessageId: 'k-thread' }, a.token, [t, a, b]);
    expect(codeOf(keyed)).toBeUndefined();
    const unkeyed = await sentAsTheThreadDies({ conversationId: c, text: 'unkeyed' }, b.token, [t, a, b]);
    expect(codeOf(unkeyed)).toBe('SERVICE_UNAVAILABLE');

    expect(codeOf(await send(t, { conversationId: c, text: 'after' }, a.token))).toBeUndefined();
    const now = t.app.services.sendBatcher.stats();
    expect([now.fellBack - before.fellBack, now.threaded - before.threaded]).toEqual([2, 1]);
    const texts = await t.query<{ text: string; id: string }>(`SELECT text, id FROM messages WHERE conversation_id = $1 ORDER BY seq OFFSET 1`, [c]);
    expect(texts.map((r) => r.text)).toEqual(['before', 'keyed', 'after']);
    expect(texts[1].id).toBe(keyed.data!.sendMessage.id);
  });
});

describe('the batch thread', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SEND_BATCH_MAX: '2' });
  });
  afterAll(() => t.close());

  it('takes what waited behind its batch as the next ones, at most SEND_BATCH_MAX sends each, all sent in order', async () => {
    const [x, y] = [await t.makeUser(), await t.makeUser()];
    const xy = await openConversation(t, x, y);
    const held = await holdingPair(t, x, y);
    let answered = false;
    const ahead = send(t, { conversationId: xy, text: 'ahead' }, x.token).finally(() => (answered = true));
    await waitingOnPairLock(t, () => answered);

    const users = await Promise.all(Array.from({ length: 10 }, () => t.makeUser()));
    const conversations = await Promise.all([0, 2, 4, 6, 8].map((i) => openConversation(t, users[i], users[i + 1])));
    const before = t.app.services.sendBatcher.stats();
    const answers = Promise.all(conversations.map((c, k) => send(t, { conversationId: c, text: `behind ${k}` }, users[2 * k].token)));
    await until('the five sends to wait behind the held batch', () => t.app.services.sendBatcher.stats().queued === 5);
    await held.commit();

    expect(codeOf(await ahead)).toBeUndefined();
    expect((await answers).map(codeOf)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    const after = t.app.services.sendBatcher.stats();
    // The held one, then 2 + 2 + 1: never more than SEND_BATCH_MAX in one transaction.
    expect([after.batches - before.batches, after.sends - before.sends, after.fellBack - before.fellBack]).toEqual([4, 6, 0]);
    const texts = await t.query<{ text: string }>(`SELECT text FROM messages WHERE conversation_id = ANY($1) AND text LIKE 'behind %' ORDER BY text`, [conversations]);
    expect(texts.map((r) => r.text)).toEqual(['behind 0', 'behind 1', 'behind 2', 'behind 3', 'behind 4']);
  });
});

/** Keeps this process's turn busy, as a turn reading hundreds of frames under load does. */
function busyFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

/**
 * How many messages with these texts PostgreSQL has committed, asked from another process
 * while this one's turn still runs (until there are `want`, at most 10 s).
 */
function committedMeanwhile(url: string, texts: string[], want: number): number {
  const script = `
    const { Client } = require('pg');
    (async () => {
      const c = new Client(process.env.URL);
      await c.connect();
      const end = Date.now() + 10000;
      let n = 0;
      for (;;) {
        n = Number((await c.query('SELECT count(*) AS n FROM messages WHERE text = ANY($1)', [JSON.parse(process.env.TEXTS)])).rows[0].n);
        if (n >= Number(process.env.WANT) || Date.now() > end) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await c.end();
      process.stdout.write(String(n));
    })();`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, URL: url, TEXTS: JSON.stringify(texts), WANT: String(want) } }));
}

describe('sends queued in a long turn', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('are committed by the batch thread while the turn still runs, not after it ends', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const c = await openConversation(t, a, b);
    const batcher = t.app.services.sendBatcher;
    const texts = ['early in the turn', 'later in the turn'];

    const early = batcher.send(a.id, { conversationId: c, text: texts[0] });
    busyFor(20);
    const later = batcher.send(b.id, { conversationId: c, text: texts[1] });
    // Still the same turn: both are durable before it ends.
    expect(committedMeanwhile(t.config.databaseUrl!, texts, 2)).toBe(2);

    expect((await Promise.all([early, later])).map((m) => m.text)).toEqual(texts);
  });
});

describe('the batch thread spacing its batches under load', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Ten times the batch time, uncapped: a held batch of ~400 ms spaces the next by ~4 s
    // (and no send is refused for waiting that long).
    t = await startTestApp({ SEND_BATCH_MAX: '2', SEND_BATCH_SPACING: '10', SEND_BATCH_SPACING_MAX_MS: '60000', SEND_QUEUE_MAX_MS: '60000' });
  });
  afterAll(() => t.close());

  it('holds a lone send after a slow batch, and starts the batch at once when a second send fills it', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => t.makeUser()));
    const [slow, first, second] = await Promise.all([0, 2, 4].map((i) => openConversation(t, users[i], users[i + 1])));
    // An idle thread starts at once: this batch waits only on the pair's lock, held ~400 ms.
    const held = await holdingPair(t, users[0], users[1]);
    let answered = false;
    const ahead = send(t, { conversationId: slow, text: 'slow' }, users[0].token).finally(() => (answered = true));
    await waitingOnPairLock(t, () => answered);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await held.commit();
    expect(codeOf(await ahead)).toBeUndefined();

    let firstAnswered = false;
    const lone = send(t, { conversationId: first, text: 'first' }, users[2].token).finally(() => (firstAnswered = true));
    await until('the lone send to wait at the thread', () => t.app.services.sendBatcher.stats().queued === 1);
    // A send that is not held commits in a few ms; give it ample time to show it was not.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(firstAnswered).toBe(false);

    const filledAt = Date.now();
    const filling = send(t, { conversationId: second, text: 'second' }, users[4].token);
    expect([await lone, await filling].map(codeOf)).toEqual([undefined, undefined]);
    // A full batch never waits for the spacing (~3.5 s were left of it).
    expect(Date.now() - filledAt).toBeLessThan(2000);
  });
});
