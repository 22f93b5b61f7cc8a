import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

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
    send(...args);
  }) as typeof socket.send;
}
