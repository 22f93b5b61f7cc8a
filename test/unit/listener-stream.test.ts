import { MAX_HELD, SKIP, listenerStream } from '../../src/lib/async-iterable';
import { eventBusOver, type UserEvent } from '../../src/graphql/pubsub';

/** A listener source the test drives: what the stream heard, and whether it still listens. */
function source<T>() {
  let onValue: ((value: T) => void) | null = null;
  return {
    listen: (fn: (value: T) => void) => {
      onValue = fn;
      return () => {
        onValue = null;
      };
    },
    emit: (value: T) => onValue?.(value),
    listening: () => onValue !== null,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('listenerStream', () => {
  it('yields what it heard in order, also values heard before the read and ones whose mapping is slower', async () => {
    const s = source<number>();
    // The first value's mapping takes longest: order must not follow mapping speed.
    const stream = listenerStream(s.listen, async (n: number) => {
      await new Promise((resolve) => setTimeout(resolve, n === 1 ? 30 : 0));
      return n * 10;
    });
    s.emit(1);
    s.emit(2);
    const first = stream.next();
    s.emit(3);
    expect(await first).toEqual({ value: 10, done: false });
    expect(await stream.next()).toEqual({ value: 20, done: false });
    expect(await stream.next()).toEqual({ value: 30, done: false });
    await stream.return!();
  });

  it('drops what the mapping skips, and yields the next', async () => {
    const s = source<number>();
    const stream = listenerStream(s.listen, (n: number) => (n % 2 ? SKIP : n));
    const read = stream.next();
    for (const n of [1, 3, 4]) s.emit(n);
    expect(await read).toEqual({ value: 4, done: false });
    await stream.return!();
  });

  it('stops listening at once when returned while a read waits, and ends that read', async () => {
    const s = source<number>();
    const hooks = { onStart: jest.fn(), onEnd: jest.fn() };
    const stream = listenerStream(s.listen, (n: number) => n, hooks);
    expect(s.listening()).toBe(true);
    expect(hooks.onStart).toHaveBeenCalledTimes(1);
    const waiting = stream.next();
    await tick();
    await stream.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(s.listening()).toBe(false);
    expect(hooks.onEnd).toHaveBeenCalledTimes(1);
    // Returned twice (graphql-ws and graphql-js may both): ended once.
    await stream.return!();
    expect(hooks.onEnd).toHaveBeenCalledTimes(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('ends, and stops listening, when the mapping throws', async () => {
    const s = source<number>();
    const onEnd = jest.fn();
    const stream = listenerStream(
      s.listen,
      () => {
        throw new Error('mapping failed');
      },
      { onEnd },
    );
    s.emit(1);
    await expect(stream.next()).rejects.toThrow('mapping failed');
    expect(s.listening()).toBe(false);
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('ends, rather than hold without bound, a subscriber that falls MAX_HELD values behind', async () => {
    const s = source<number>();
    const onEnd = jest.fn();
    const stream = listenerStream(s.listen, (n: number) => n, { onEnd });
    for (let n = 0; n < MAX_HELD; n++) s.emit(n);
    expect(s.listening()).toBe(true);
    s.emit(MAX_HELD);
    expect(s.listening()).toBe(false);
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('lets a value mapped while the client leaves go nowhere', async () => {
    const s = source<number>();
    let release!: () => void;
    const stream = listenerStream(s.listen, async (n: number) => {
      await new Promise<void>((resolve) => (release = resolve));
      return n;
    });
    const read = stream.next();
    s.emit(1);
    await tick();
    await stream.return!();
    release();
    expect(await read).toEqual({ value: undefined, done: true });
  });
});

describe('the in-process bus', () => {
  const event = (userId: string, cursor: string): UserEvent => ({ userId, cursor, type: 'MESSAGE_RECEIVED', payload: {}, publishedAt: 0 });

  it("calls an account's listeners with its events only, until each stops", () => {
    const bus = eventBusOver();
    const heard: string[] = [];
    const stopA1 = bus.listen('a', (e) => heard.push(`a1:${e.cursor}`));
    const stopA2 = bus.listen('a', (e) => heard.push(`a2:${e.cursor}`));
    bus.listen('b', (e) => heard.push(`b:${e.cursor}`));
    bus.publish('user', 'a', event('a', '1'));
    stopA1();
    bus.publish('user', 'a', event('a', '2'));
    stopA2();
    bus.publish('user', 'a', event('a', '3'));
    expect(heard).toEqual(['a1:1', 'a2:1', 'a2:2']);
  });

  it("gives an event to an account's other listeners when one throws, and tells the publisher", () => {
    const bus = eventBusOver();
    const heard: string[] = [];
    bus.listen('a', () => {
      throw new Error('listener failed');
    });
    bus.listen('a', (e) => heard.push(e.cursor));
    expect(() => bus.publish('user', 'a', event('a', '1'))).toThrow('listener failed');
    expect(heard).toEqual(['1']);
  });

  it('still serves subscribe() (session revocations travel through it)', async () => {
    const bus = eventBusOver();
    const feed = bus.subscribe('sessionRevoked')[Symbol.asyncIterator]();
    const next = feed.next();
    await tick();
    bus.publish('sessionRevoked', { userId: 'a', jti: 'j' });
    expect((await next).value).toEqual({ userId: 'a', jti: 'j' });
    await feed.return!();
  });
});
