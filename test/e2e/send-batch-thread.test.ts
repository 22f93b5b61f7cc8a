import type { Worker } from 'node:worker_threads';
import { codeOf, startTestApp, type GqlResult, type TestApp } from '../support/app';
import { openConversation } from '../support/conversations';
import { holdingPair, waitingOnPairLock } from '../support/locks';
import { until } from '../support/until';
import { sendBatchCases } from './send-batch.cases';

// Every batch on the batch thread, as under load (SEND_BATCH_THREAD_LAG_MS 0: always).
sendBatchCases({ env: { SEND_BATCH_THREAD_LAG_MS: '0' }, onThread: true });

const SEND = `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id text } }`;
type Sent = GqlResult<{ sendMessage: { id: string; text: string } }>;
type Input = { conversationId: string; text: string; clientMessageId?: string };

const send = (t: TestApp, input: Input, token: string) => t.gql(SEND, { input }, token) as Promise<Sent>;

/** The app's batch thread, to make it fail as a crash or running out of memory would. */
function batchWorker(t: TestApp): Worker {
  const batcher = t.app.services.sendBatcher as unknown as { deps: { thread: { worker: Worker | null } } };
  return batcher.deps.thread.worker!;
}

describe('a batch thread that dies with a batch in flight', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SEND_BATCH_THREAD_LAG_MS: '0' });
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

describe('where a batch runs', () => {
  it('on the thread when sends are left waiting behind it; on the app connection when none are and the loop does not lag', async () => {
    // The loop's lag never counts here: only the backlog decides.
    const t = await startTestApp({ SEND_BATCH_THREAD_LAG_MS: '100000', SEND_BATCHES_IN_FLIGHT: '1', SEND_BATCH_MAX: '2' });
    try {
      const users = await Promise.all(Array.from({ length: 8 }, () => t.makeUser()));
      const conversations = await Promise.all([0, 2, 4, 6].map((i) => openConversation(t, users[i], users[i + 1])));
      const before = t.app.services.sendBatcher.stats();
      // The first batch waits on its pair while three more sends queue behind it.
      const held = await holdingPair(t, users[0], users[1]);
      let answered = false;
      const first = send(t, { conversationId: conversations[0], text: 'first' }, users[0].token).finally(() => (answered = true));
      await waitingOnPairLock(t, () => answered);
      const rest = Promise.all([1, 2, 3].map((k) => send(t, { conversationId: conversations[k], text: `queued ${k}` }, users[2 * k].token)));
      await until('three sends to queue', () => t.app.services.sendBatcher.stats().queued === 3);
      await held.commit();
      expect([await first, ...(await rest)].map((r) => codeOf(r) ?? 'OK')).toEqual(['OK', 'OK', 'OK', 'OK']);
      // Then a batch of 2, which left one behind (on the thread), and a batch of 1 (here).
      const now = t.app.services.sendBatcher.stats();
      expect([now.batches - before.batches, now.threaded - before.threaded]).toEqual([3, 1]);
    } finally {
      await t.close();
    }
  });

  it('on the thread just after the event loop stalled, on the app connection again once it turns freely', async () => {
    const t = await startTestApp({ SEND_BATCH_THREAD_LAG_MS: '50' });
    // One stall alone is not overload: nothing here is shed.
    try {
      const [a, b] = [await t.makeUser(), await t.makeUser()];
      const c = await openConversation(t, a, b);
      const before = t.app.services.sendBatcher.stats();
      // The app runs in this process: stall its loop for a second, then send at once.
      const stalledAt = Date.now();
      while (Date.now() - stalledAt < 1000);
      expect(codeOf(await send(t, { conversationId: c, text: 'after a stall' }, a.token))).toBeUndefined();
      expect(t.app.services.sendBatcher.stats().threaded - before.threaded).toBe(1);
      await until('the lag to fade', () => t.app.overload.recentLagMs() < 20);
      expect(codeOf(await send(t, { conversationId: c, text: 'later' }, a.token))).toBeUndefined();
      expect(t.app.services.sendBatcher.stats().threaded - before.threaded).toBe(1);
    } finally {
      await t.close();
    }
  });
});
