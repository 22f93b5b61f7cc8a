/** Returned by a transform to drop a value. */
export const SKIP = Symbol('skip');

export interface StreamHooks {
  /** When the stream starts (it listens from then on). */
  onStart?: () => void;
  /** When it ends for any reason (client gone, error). */
  onEnd?: () => void;
}

/** Stops a listener that `listen` added. */
type Unlisten = () => void;

/**
 * Values a stream holds unread before it ends: a subscriber this far behind (a stalled
 * socket) would otherwise hold memory without bound. Ended, its subscription completes,
 * and the client catches up from the event log (`events(after:)`) when it subscribes
 * again. Repeater, which this replaces, allowed as many pending values.
 */
export const MAX_HELD = 1024;

/**
 * A stream of the values a listener hears, each passed through `fn` (SKIP drops it), in
 * the order heard; one value is mapped at a time. It listens from the moment it is made
 * and holds what arrives until it is read. `return()` stops listening at once, also while
 * a read waits: a client that unsubscribes while no event is pending must not leave its
 * listener alive until the next event. One object and no promise per value beyond the
 * read's own: it sits on the path of every live delivery (events.service.ts). Read one
 * value at a time, as graphql-js does (a read waits for the one before it to return).
 */
export function listenerStream<T, U>(
  listen: (onValue: (value: T) => void) => Unlisten,
  fn: (value: T) => U | typeof SKIP | Promise<U | typeof SKIP>,
  hooks: StreamHooks = {},
): AsyncIterableIterator<U> {
  const held: T[] = [];
  let reader: ((value: T | typeof ENDED) => void) | null = null;
  let ended = false;
  const unlisten = listen((value) => {
    if (ended) return;
    if (reader) {
      const wake = reader;
      reader = null;
      wake(value);
    } else if (held.length < MAX_HELD) held.push(value);
    else end();
  });
  hooks.onStart?.();

  const end = () => {
    if (ended) return;
    ended = true;
    held.length = 0;
    unlisten();
    hooks.onEnd?.();
    const wake = reader;
    reader = null;
    wake?.(ENDED);
  };
  const done = (): IteratorResult<U> => ({ value: undefined, done: true });

  const stream: AsyncIterableIterator<U> = {
    async next() {
      while (!ended) {
        const value = held.length ? held.shift()! : await new Promise<T | typeof ENDED>((wake) => (reader = wake));
        if (value === ENDED) break;
        let mapped: U | typeof SKIP;
        try {
          mapped = await fn(value);
        } catch (err) {
          end();
          throw err;
        }
        // Ended while mapping: the client is gone, the value goes nowhere.
        if (ended) break;
        if (mapped !== SKIP) return { value: mapped, done: false };
      }
      return done();
    },
    async return() {
      end();
      return done();
    },
    async throw(err: unknown) {
      end();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}

const ENDED = Symbol('ended');
