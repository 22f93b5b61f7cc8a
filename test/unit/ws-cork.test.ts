import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { corkPerTick } from '../../src/graphql/ws-cork';
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
});

