import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Holds a WebSocket's TCP writes until the end of the current turn of the event loop:
 * the frames one turn sends it (a message, the sender's echo, a badge, for every
 * subscription that wants them) leave in one write instead of one each. Corked on the
 * first send of a turn, uncorked once the turn's callbacks and promises have run
 * (setImmediate), so nothing waits for a later turn.
 */
export function corkPerTick(socket: WebSocket): void {
  const raw = (socket as unknown as { _socket?: Socket })._socket;
  if (!raw) return;
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  let corked = false;
  socket.send = ((...args: unknown[]) => {
    if (!corked && raw.writable) {
      corked = true;
      raw.cork();
      setImmediate(() => {
        corked = false;
        raw.uncork();
      });
    }
    send(...args);
  }) as typeof socket.send;
}
