import { getOperationAST, type DocumentNode } from 'graphql';
import type { WebSocket } from 'ws';

/** What the shed needs to know about a connection (graphql-ws's context for the socket). */
export interface ShedConnection {
  acknowledged: boolean;
  subscriptions: Record<string, unknown>;
}

export interface WsShedOptions {
  /** The connection's graphql-ws context once its connection_init was accepted; else undefined. */
  connection: (socket: WebSocket) => ShedConnection | undefined;
  /** The parsed, validated document for this query text when it has been seen before. */
  knownDocument: (query: string) => DocumentNode | undefined;
  /** The payload of the refusal's error frame as JSON, or null while the process keeps up. */
  refusal: () => string | null;
  /** Counts the refusal like any refused operation. */
  refused: (operationName: string | undefined) => void;
}

/**
 * Load shedding below graphql-ws. Under overload the cost that matters is per frame: a
 * shed frame that graphql-ws parses, validates, hands to onSubscribe and answers through
 * its promise chain costs a fifth of what running a send does, and the frames behind it
 * wait in the socket for that CPU. So while the process is overloaded, a `subscribe`
 * frame for a query or mutation whose document is already known is answered here, with
 * the same error frame onSubscribe would send, before graphql-ws sees it.
 *
 * Everything else goes to graphql-ws untouched: subscriptions (always taken), frames of a
 * connection not yet acknowledged, an id already in use, a document never seen, anything
 * that is not plain JSON of the protocol's shape. graphql-ws applies its own rules to
 * those, and onSubscribe sheds what is left with the same answer.
 *
 * Installed on a socket before graphql-ws registers its message listener (the first
 * 'connection' listener), by wrapping `socket.on('message')` for that socket only.
 */
export function shedBeforeGraphqlWs(socket: WebSocket, o: WsShedOptions): void {
  const on = socket.on;
  socket.on = function (this: WebSocket, event: string | symbol, listener: (...args: unknown[]) => void) {
    if (event !== 'message') return on.call(this, event, listener);
    return on.call(this, 'message', (data: unknown, isBinary: unknown) => {
      const refusal = o.refusal();
      if (refusal) {
        const text = String(data);
        const reply = refusalFrame(socket, text, refusal, o);
        if (reply) return void socket.send(reply);
        return listener(text, isBinary);
      }
      listener(data, isBinary);
    });
  } as typeof socket.on;
}

function refusalFrame(socket: WebSocket, text: string, refusal: string, o: WsShedOptions): string | null {
  let frame: { id?: unknown; type?: unknown; payload?: { query?: unknown; operationName?: unknown } };
  try {
    frame = JSON.parse(text);
  } catch {
    return null;
  }
  if (frame?.type !== 'subscribe' || typeof frame.id !== 'string' || typeof frame.payload?.query !== 'string') return null;
  const connection = o.connection(socket);
  if (!connection?.acknowledged || frame.id in connection.subscriptions) return null;
  const document = o.knownDocument(frame.payload.query);
  const operationName = typeof frame.payload.operationName === 'string' ? frame.payload.operationName : undefined;
  const operation = document && getOperationAST(document, operationName);
  if (!operation || operation.operation === 'subscription') return null;
  o.refused(operationName ?? operation.name?.value);
  // JSON.stringify({ id, type: 'error', payload }), the payload serialised once for all.
  return `{"id":${JSON.stringify(frame.id)},"type":"error","payload":${refusal}}`;
}
