import net from 'node:net';
import WebSocket from 'ws';
import { startTestApp, type TestApp, type TestUser } from '../support/app';
import { openConversation, writeSnapshot } from '../support/conversations';
import { until } from '../support/until';

/**
 * Load shedding (OVERLOAD_LAG_MS): while the server's event loop lags, and lagged shortly
 * before too, operations are answered SERVICE_UNAVAILABLE with retryAfter before they
 * run, and nothing is written; subscriptions are still taken. The test's own thread is
 * the server's: blocking it for a moment is a real stall, and a frame that arrived
 * meanwhile is read just after it.
 */
const SEND = `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
const STALL_MS = 250;

let t: TestApp;
let a: TestUser;
let b: TestUser;
let conversationId: string;
beforeAll(async () => {
  t = await startTestApp({ OVERLOAD_LAG_MS: '100' });
  [a, b] = await Promise.all([t.makeUser(), t.makeUser()]);
  conversationId = await openConversation(t, a, b);
  // Once sent over WebSocket, SEND is a document the server knows (parsed and validated):
  // while shedding, such a frame is refused before graphql-ws sees it.
  const { ws, frames } = await socket(b.token);
  subscribe(ws, 'prime', SEND, { input: { conversationId, text: 'before the storm', clientMessageId: 'prime' } });
  await until('the first send', () => frames.some((f) => f.id === 'prime' && f.type === 'next'));
  ws.close();
});
afterAll(async () => {
  await t.close();
});

/** Keeps the (shared) event loop busy, as a flood of work would. */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

/**
 * Two long turns in a row, as sustained overload makes: what `act` sends arrives during
 * the second, while the server sheds.
 */
async function sustainedStall(act: () => void): Promise<void> {
  stall(STALL_MS);
  const stalledAt = Date.now();
  await until('the server to measure the first long turn', () => t.app.overload.msSinceLongTurn() <= Date.now() - stalledAt);
  act();
  stall(STALL_MS);
}

/** The server's own lag measure, back under its threshold: the loop keeps up again. */
const keepingUp = () => until('the event loop to keep up', () => t.app.overload.lagMs() <= 100);

/** A graphql-ws connection, acknowledged; `frames` collects what the server sends. */
async function socket(token: string): Promise<{ ws: WebSocket; frames: Array<Record<string, unknown>> }> {
  const ws = new WebSocket(t.app.wsUrl, 'graphql-transport-ws');
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => frames.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await until('the connection ack', () => frames.some((f) => f.type === 'connection_ack'));
  return { ws, frames };
}

function subscribe(ws: WebSocket, id: string, query: string, variables?: Record<string, unknown>) {
  ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
}

test('one long turn alone (a GC pause, say) is not overload: a send arriving during it goes through', async () => {
  await until('a second with no long turn', () => t.app.overload.msSinceLongTurn() > 1000);
  const { ws, frames } = await socket(a.token);
  subscribe(ws, 'pause', SEND, { input: { conversationId, text: 'through a pause', clientMessageId: 'pause-1' } });
  stall(STALL_MS);
  await until('the answer to the send', () => frames.some((f) => f.id === 'pause'));
  expect(frames.find((f) => f.id === 'pause')!.type).toBe('next');
  ws.close();
  await keepingUp();
});

test('over WebSocket, a send arriving while the loop lags is refused at once, writing nothing; subscriptions are still taken', async () => {
  const { ws, frames } = await socket(a.token);
  const before = await writeSnapshot(t, conversationId);

  await sustainedStall(() => {
    subscribe(ws, 'send-1', SEND, { input: { conversationId, text: 'in the storm', clientMessageId: 'storm-1' } });
    subscribe(ws, 'sub-1', `subscription { messageReceived { message { id } } }`);
  });
  await until('the answer to the send', () => frames.some((f) => f.id === 'send-1'));

  const refused = frames.find((f) => f.id === 'send-1')!;
  expect(refused.type).toBe('error');
  expect(refused.payload).toEqual([expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 1, retryable: true } })]);
  expect(await writeSnapshot(t, conversationId)).toEqual(before);

  // Once the loop keeps up, the retry goes through, and the subscription taken in the
  // stall delivers it.
  await keepingUp();
  subscribe(ws, 'send-2', SEND, { input: { conversationId, text: 'in the storm', clientMessageId: 'storm-1' } });
  await until('the retry and its delivery', () => frames.some((f) => f.id === 'send-2' && f.type === 'next') && frames.some((f) => f.id === 'sub-1' && f.type === 'next'));
  const sent = frames.find((f) => f.id === 'send-2' && f.type === 'next')!.payload as { data: { sendMessage: { id: string } } };
  const delivered = frames.find((f) => f.id === 'sub-1' && f.type === 'next')!.payload as { data: { messageReceived: { message: { id: string } } } };
  expect(delivered.data.messageReceived.message.id).toBe(sent.data.sendMessage.id);
  ws.close();
});

test('over HTTP, an operation arriving while the loop lags gets 503 with Retry-After and a GraphQL error', async () => {
  const body = JSON.stringify({ query: SEND, variables: { input: { conversationId, text: 'over http', clientMessageId: 'storm-http' } } });
  const before = await writeSnapshot(t, conversationId);
  const { port } = new URL(t.app.url);
  const client = net.connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  let raw = '';
  client.on('data', (chunk) => (raw += chunk));
  const ended = new Promise((resolve) => client.once('end', resolve));
  await sustainedStall(() =>
    client.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${b.token}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    ),
  );
  await ended;

  const [head, payload] = raw.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 503 /);
  expect(head).toMatch(/\r\nretry-after: 1\r\n/i);
  const json = JSON.parse(payload) as { errors: Array<{ extensions: Record<string, unknown> }> };
  expect(json.errors.map((e) => e.extensions)).toEqual([{ code: 'SERVICE_UNAVAILABLE', retryAfter: 1, retryable: true }]);
  expect(await writeSnapshot(t, conversationId)).toEqual(before);

  await keepingUp();
  const retried = await t.gql(SEND, { input: { conversationId, text: 'over http', clientMessageId: 'storm-http' } }, b.token);
  expect(retried.errors).toBeUndefined();
});

/** The code a socket is closed with. */
const closeCode = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

test('over WebSocket, a document already seen is refused below graphql-ws with the very frame a new one gets, and its id is free for the retry', async () => {
  const { ws, frames } = await socket(a.token);
  const before = await writeSnapshot(t, conversationId);

  // SEND is known (beforeAll); this query's text is new.
  await sustainedStall(() => {
    subscribe(ws, 'known', SEND, { input: { conversationId, text: 'in the storm', clientMessageId: 'storm-2' } });
    subscribe(ws, 'fresh', `query Fresh { me { id } }`);
  });
  await until('both answers', () => frames.some((f) => f.id === 'known') && frames.some((f) => f.id === 'fresh'));

  const fresh = frames.find((f) => f.id === 'fresh')!;
  expect(fresh.type).toBe('error');
  expect(fresh.payload).toEqual([expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 1, retryable: true } })]);
  expect(frames.find((f) => f.id === 'known')).toEqual({ id: 'known', type: 'error', payload: fresh.payload });
  expect(await writeSnapshot(t, conversationId)).toEqual(before);

  await keepingUp();
  subscribe(ws, 'known', SEND, { input: { conversationId, text: 'in the storm', clientMessageId: 'storm-2' } });
  await until('the retry under the same id', () => frames.some((f) => f.id === 'known' && f.type === 'next'));
  ws.close();
});

test('while shedding, the protocol still comes first: an id already in use closes 4409', async () => {
  const { ws } = await socket(a.token);
  const closed = closeCode(ws);
  const before = await writeSnapshot(t, conversationId);
  await sustainedStall(() => {
    subscribe(ws, 'live', `subscription { messageReceived { message { id } } }`);
    subscribe(ws, 'live', SEND, { input: { conversationId, text: 'same id', clientMessageId: 'storm-3' } });
  });
  expect(await closed).toBe(4409);
  expect(await writeSnapshot(t, conversationId)).toEqual(before);
  await keepingUp();
});

test('while shedding, the protocol still comes first: a subscribe before the connection is acknowledged closes 4401', async () => {
  const ws = new WebSocket(t.app.wsUrl, 'graphql-transport-ws');
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const closed = closeCode(ws);
  await sustainedStall(() => {
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${a.token}` } }));
    subscribe(ws, 'early', SEND, { input: { conversationId, text: 'too early', clientMessageId: 'storm-4' } });
  });
  expect(await closed).toBe(4401);
  await keepingUp();
});
