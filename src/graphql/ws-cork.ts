import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Below this many bytes waiting in the socket's own buffer, a send's callback runs at
 * once instead of when the kernel has the bytes. Above it, the callback waits for the
 * write, as ws does: graphql-ws awaits each send, so a client that stops reading holds its
 * subscriptions' streams, whose bound (MAX_HELD) then ends them (docs/realtime.md).
 */
export const EARLY_DONE_BYTES = 64 * 1024;

/**
 * Holds a WebSocket's TCP writes until the code that sent them has run: the frames one
 * chain of promises sends a socket (graphql-ws sends from promise continuations: a
 * batch's acknowledgements, a message, the sender's echo, a badge, for every subscription
 * that wants them) leave in one write instead of one each. Corked on the first send,
 * uncorked on process.nextTick, which runs once the promises queued meanwhile have.
 * Not at the end of the loop's turn (setImmediate): graphql-ws sends an operation's
 * `complete`, the frame a client's request waits for, only once its `next` is written, so
 * it was corked again and left a whole turn later, after the next turn's reading of
 * frames (100 ms and more under load; docs/performance.md).
 *
 * That wait is also why a mutation's `next` and `complete` left in two writes: the send's
 * callback came only after the uncork. While the socket keeps up (little buffered), the
 * callback runs as a microtask instead, so `complete` joins `next` in the same write
 * (one system call less per acknowledgement; docs/decisions.md). That holds because
 * graphql-ws sends from promise continuations: microtasks queued there run before the
 * tick's uncork. A failed write still closes the socket (ws's own error handling), which
 * ends its operations.
 */
export function corkPerTick(socket: WebSocket): void {
  const raw = (socket as unknown as { _socket?: Socket })._socket;
  if (!raw) return;
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  let corked = false;
  const uncork = () => {
    corked = false;
    raw.uncork();
  };
  socket.send = ((...args: unknown[]) => {
    if (!corked && raw.writable) {
      corked = true;
      raw.cork();
      process.nextTick(uncork);
    }
    const done = args[args.length - 1];
    // bufferedAmount: the TCP socket's unwritten bytes and any ws still holds (compression).
    if (typeof done === 'function' && socket.bufferedAmount < EARLY_DONE_BYTES && socket.readyState === socket.OPEN) {
      send(...args.slice(0, -1));
      queueMicrotask(() => (done as (err?: Error) => void)());
      return;
    }
    send(...args);
  }) as typeof socket.send;
}
