import { Repeater } from '@graphql-yoga/subscription';

/** Returned by a transform to drop a value. */
export const SKIP = Symbol('skip');

export interface StreamHooks {
  /** When the stream starts being read. */
  onStart?: () => void;
  /** When it ends for any reason (source done, client gone, error). */
  onEnd?: () => void;
}

/**
 * Maps (and, with SKIP, filters) an async iterable. Unlike an async generator it passes
 * `return()` through at once: a client that unsubscribes while no event is pending must
 * not leave the source iterator — and its pub/sub listener — alive until the next event.
 */
export function transformAsyncIterable<T, U>(
  source: AsyncIterable<T>,
  fn: (value: T) => U | typeof SKIP | Promise<U | typeof SKIP>,
  hooks: StreamHooks = {},
): AsyncIterableIterator<U> {
  return new Repeater<U>(async (push, stop) => {
    const iterator = source[Symbol.asyncIterator]();
    hooks.onStart?.();
    let done = false;
    stop.then(() => {
      done = true;
      void iterator.return?.();
    });
    try {
      while (!done) {
        const next = await iterator.next();
        if (next.done) break;
        const value = await fn(next.value);
        if (value !== SKIP) await push(value);
      }
    } finally {
      hooks.onEnd?.();
      stop();
    }
  });
}
