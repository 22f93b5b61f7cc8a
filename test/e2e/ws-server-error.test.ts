import { startTestApp, type TestApp } from '../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('an error on the HTTP server under the sockets', () => {
  it('keeps every connected socket open and serving (a failed accept concerns no open socket)', async () => {
    const u = await t.makeUser();
    // Not lazy: one socket, open from the start until the test ends.
    const client = t.wsClient(u.token, { lazy: false });
    const closes: number[] = [];
    client.on('closed', (e) => void closes.push((e as { code: number }).code));
    const ask = (over = client) =>
      new Promise<unknown>((resolve, reject) => {
        let data: unknown;
        over.subscribe({ query: '{ me { id } }' }, { next: (v) => void (data = v.data), error: reject, complete: () => resolve(data) });
      });
    expect(await ask()).toEqual({ me: { id: u.id } });

    // What Node's net.Server does when accept() fails with an error libuv reports (out of
    // buffers or memory); the WebSocket server re-emits it.
    t.app.httpServer.emit('error', Object.assign(new Error('accept ENOBUFS'), { code: 'ENOBUFS', syscall: 'accept' }));

    expect(await ask()).toEqual({ me: { id: u.id } });
    expect(closes).toEqual([]);
    // And it still takes new sockets.
    expect(await ask(t.wsClient(u.token))).toEqual({ me: { id: u.id } });
  });
});
