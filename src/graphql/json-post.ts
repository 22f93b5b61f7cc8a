import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';

export interface JsonPostOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  maxBodyBytes: number;
  context(req: IncomingMessage, requestId: string): Promise<C>;
  requestId(req: IncomingMessage): string;
  /** A body refused before Apollo saw it (too large, not JSON). */
  onRefused(): void;
}

/**
 * `POST /graphql` with a plain JSON body — what every client sends for every operation —
 * straight to Apollo, without Express's router, body-parser and `res.send`: together
 * they were a third of the server's own CPU on a mutation (docs/performance.md).
 * Everything else (GET, GraphiQL, other content types, which Apollo's CSRF check refuses,
 * compressed bodies, health, metrics) goes through Express as before, and this path
 * answers as that one does: the same 413 and 400 shapes, the same request id.
 *
 * Returns false when the request is not one it takes.
 */
export function jsonPostHandler<C extends BaseContext>(opts: JsonPostOptions<C>) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== '/graphql') return false;
    if (!isPlainJson(req.headers['content-type'])) return false;
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
    void serve(opts, req, res, q < 0 ? '' : url.slice(q));
    return true;
  };
}

/** `application/json`, with no parameter but a UTF-8 charset (what body-parser accepts without decoding). */
function isPlainJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  return params.every((p) => /^\s*charset\s*=\s*"?utf-8"?\s*$/i.test(p));
}

async function serve<C extends BaseContext>(opts: JsonPostOptions<C>, req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
  const requestId = opts.requestId(req);
  res.setHeader('x-request-id', requestId);
  const body = await readJson(req, opts.maxBodyBytes);
  if (body.refused) {
    opts.onRefused();
    const message = body.refused === 413 ? `Request body is over ${opts.maxBodyBytes} bytes` : 'Malformed request';
    send(res, body.refused, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
    return;
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  try {
    const response = await opts.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search, body: body.value },
      context: () => opts.context(req, requestId),
    });
    const out: Record<string, string> = {};
    for (const [key, value] of response.headers) out[key] = value;
    if (response.body.kind === 'complete') {
      send(res, response.status ?? 200, out, response.body.string);
      return;
    }
    res.writeHead(response.status ?? 200, out);
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  } catch {
    // executeHTTPGraphQLRequest answers errors itself; this is the socket going away.
    if (!res.headersSent) send(res, 500, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
    else res.destroy();
  }
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

type ReadResult = { refused: 400 | 413; value?: undefined } | { refused?: undefined; value: unknown };

/** The body as JSON, within the limit. An empty body is `{}` (Apollo then says what is missing). */
function readJson(req: IncomingMessage, max: number): Promise<ReadResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    req.resume(); // drain it: the connection stays usable
    return Promise.resolve({ refused: 413 });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: ReadResult) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        finish({ refused: 413 });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size === 0) return finish({ value: {} });
      try {
        const value: unknown = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
        // body-parser's strict mode: only an object or an array is a request.
        finish(value !== null && typeof value === 'object' ? { value } : { refused: 400 });
      } catch {
        finish({ refused: 400 });
      }
    });
    req.on('error', () => finish({ refused: 400 }));
  });
}
