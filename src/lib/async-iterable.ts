import { Repeater } from '@graphql-yoga/subscription';

/**
 * Maps an async iterable and, unlike an async generator, passes `return()` through at
 * once: a client that unsubscribes while no event is pending must not leave the source
 * iterator (and its pub/sub listener) alive until the next event.
 */
export function mapAsyncIterable<T, U>(source: AsyncIterable<T>, fn: (value: T) => U | Promise<U>): AsyncIterableIterator<U> {
  return new Repeater<U>(async (push, stop) => {
    const iterator = source[Symbol.asyncIterator]();
    let done = false;
    stop.then(() => {
      done = true;
      void iterator.return?.();
    });
    try {
      while (!done) {
        const next = await iterator.next();
        if (next.done) break;
        await push(await fn(next.value));
      }
    } finally {
      stop();
    }
  });
}
