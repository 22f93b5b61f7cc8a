import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { corkPerTick, EARLY_DONE_BYTES } from '../../src/graphql/ws-cork';
import { until } from '../support/until';

/** A server socket with corkPerTick, the client connected to it, and what the client received. */
async function pair(): Promise<{ server: WebSocket; client: WebSocket; raw: Socket; received: string[]; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  await new Promise((resolve) => client.once('open', resolve));
  const server = await accepted;
  corkPerTick(server);
  const close = async () => {
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.terminate();
    await closed;
    await new Promise((resolve) => wss.close(resolve));
  };
  return { server, client, raw: (server as unknown as { _socket: Socket })._socket, received, close };
}

describe('corkPerTick', () => {
  let p: Awaited<ReturnType<typeof pair>>;
  beforeEach(async () => {
    p = await pair();
  });
  afterEach(() => p.close());

  /** What the server still holds (bytes not yet written) when the client reads its first frame. */
  const heldAtFirstFrame = () =>
    new Promise<number>((resolve) => p.client.once('message', () => resolve(p.raw.writableLength)));

  it('sends the frames a chain of promises sends (as graphql-ws sends them) in one write', async () => {
    const writes = jest.spyOn(p.raw, '_writev' as never);
    const held = heldAtFirstFrame();
    setTimeout(() => {
      void Promise.resolve()
        .then(() => p.server.send('message'))
        .then(() => p.server.send('echo'));
    }, 0);
    expect(await held).toBe(0);
    expect(writes).toHaveBeenCalledTimes(1);
    await until('both frames at the client', () => p.received.length === 2);
    expect(p.received).toEqual(['message', 'echo']);
  });

  it('sends a frame sent once the one before it is written (graphql-ws: complete after next) at once, not a turn of the loop later', async () => {
    const held = heldAtFirstFrame();
    setTimeout(() => p.server.send('next', () => p.server.send('complete')), 0);
    expect(await held).toBe(0);
    await until('both frames at the client', () => p.received.length === 2);
    expect(p.received).toEqual(['next', 'complete']);
  });

  it("sends a mutation's next and complete in one write: the send's callback does not wait for the write while the socket keeps up", async () => {
    const writes = jest.spyOn(p.raw, '_writev' as never);
    const single = jest.spyOn(p.raw, '_write' as never);
    setTimeout(() => {
      void Promise.resolve().then(() => p.server.send('next', () => p.server.send('complete')));
    }, 0);
    await until('both frames at the client', () => p.received.length === 2);
    expect(p.received).toEqual(['next', 'complete']);
    expect(writes.mock.calls.length + single.mock.calls.length).toBe(1);
  });

  it('keeps the callback for the write once a client stops reading, so a stalled subscription still waits', async () => {
    p.client.pause();
    p.server.send(Buffer.alloc(8 * 1024 * 1024));
    await until('the server to hold what the paused client will not take', () => p.raw.writableLength > EARLY_DONE_BYTES);
    let done = false;
    p.server.send('after', () => (done = true));
    // An early callback would have run in this turn's microtasks.
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    p.client.resume();
    await until('the write to reach the client', () => done);
  });
});
