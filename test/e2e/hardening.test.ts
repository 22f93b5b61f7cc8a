import { Lexer, Source, TokenKind, getIntrospectionQuery, print, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { Client } from 'graphql-ws';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { startTestApp, codeOf, type TestApp, type TestUser } from '../support/app';
import { MeDocument, OnInboxBadgeChangedDocument } from '../generated/graphql';
import { until } from '../support/until';

/**
 * SPEC §7: every limit holds over HTTP and over WebSocket, refusals are 4xx with a clear
 * code before anything runs, and the server keeps answering afterwards.
 */
let t: TestApp;
let user: TestUser;
beforeAll(async () => {
  t = await startTestApp();
  user = await t.makeUser();
});
afterAll(() => t.close());

// ---- documents -------------------------------------------------------------------------

/** `me` then `levels` × followers → edges → node, ending in `id`: depth 2 + 3 × levels. */
const nested = (levels: number) => {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `followers { edges { node { ${inner} } } }`;
  return `{ me { ${inner} } }`;
};
/** Depth exactly `depth` (≥ 2): me → followers → edges → node → followers … → a leaf. */
// Paged fields ask for one row each: these probe depth and tokens, and a default page of
// 20 at every level would be refused for its cost first.
const ofDepth = (depth: number) => {
  const path = ['me', ...Array.from({ length: depth - 2 }, (_, i) => ['followers(first: 1)', 'edges', 'node'][i % 3])];
  const leaf: Record<string, string> = { me: 'id', 'followers(first: 1)': '__typename', edges: 'cursor', node: 'id' };
  return `{ ${path.reduceRight((inner, field) => `${field} { ${inner} }`, leaf[path[path.length - 1]])} }`;
};
/** 40 levels reached only through fragments, each adding followers → edges → node. */
const deepFragments = (fragments = 14) => {
  const defs = Array.from({ length: fragments }, (_, i) =>
    i === fragments - 1 ? `fragment F${i} on User { id }` : `fragment F${i} on User { followers { edges { node { ...F${i + 1} } } } }`,
  );
  return `{ me { ...F0 } } ${defs.join(' ')}`;
};
/** 20 fragments, each spreading the next 20 times: 20^20 fields once expanded, in < 1000 tokens. */
const fragmentBomb = (n = 20, k = 20) => {
  const defs = Array.from({ length: n }, (_, i) => `fragment B${i} on User { id ${Array(k).fill(`...B${i + 1}`).join(' ')} }`);
  return `{ me { ...B0 } } ${defs.join(' ')} fragment B${n} on User { id }`;
};
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
/** A valid query of exactly `n` tokens: `{ me { id … followers { edges { node { id } } } … } }`. */
const tokens = (n: number) => {
  const units = Math.floor((n - 5) / 15);
  return `{ me { ${'id '.repeat(n - 5 - units * 15)}${'followers(first: 1) { edges { node { id } } } '.repeat(units)}} }`;
};
const tokenCount = (query: string) => {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
};
/** 995 copies of one field: graphql-js gives up comparing them pairwise ("Validation aborted."). */
const sameFieldMany = `{ me { ${'id '.repeat(995)}} }`;
const costly = '{ searchUsers(query: "a", first: 100) { edges { node { followers(first: 100) { edges { node { id } } } } } } }';

// ---- transports ------------------------------------------------------------------------

interface Answer {
  status?: number;
  data?: unknown;
  errors?: GraphQLFormattedError[];
}

async function overHttp(query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const res = await t.gql(query, variables, user.token);
  return { status: res.status, data: res.data, errors: res.errors };
}

/** One operation over graphql-ws: the result, or the errors the server refused it with. */
function run(client: Client, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let last: ExecutionResult | undefined;
    client.subscribe(
      { query, variables },
      {
        next: (value) => {
          last = value as ExecutionResult;
        },
        error: (err) => (Array.isArray(err) ? resolve({ errors: err as GraphQLFormattedError[] }) : reject(err)),
        complete: () => resolve({ data: last?.data, errors: last?.errors as GraphQLFormattedError[] | undefined }),
      },
    );
  });
}

async function overWs(query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const client = t.wsClient(user.token);
  try {
    return await run(client, query, variables);
  } finally {
    await client.dispose();
  }
}

/** A healthy query still gets its answer over both transports. */
async function expectStillServing(): Promise<void> {
  const http = await overHttp(print(MeDocument));
  expect(http.status).toBe(200);
  expect((http.data as { me: { id: string } }).me.id).toBe(user.id);
  const ws = await overWs(print(MeDocument));
  expect((ws.data as { me: { id: string } }).me.id).toBe(user.id);
}

/** A raw socket speaking graphql-transport-ws, for what the client library would not send. */
function rawSocket(): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string; afterMs: number }> }> {
  const socket = new WebSocket(t.app.wsUrl, 'graphql-transport-ws');
  const opened = Date.now();
  const closed = new Promise<{ code: number; reason: string; afterMs: number }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString(), afterMs: Date.now() - opened })),
  );
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

function nextMessage(socket: WebSocket): Promise<{ type: string; id?: string; payload?: unknown }> {
  return new Promise((resolve, reject) => {
    const onClose = (code: number) => reject(new Error(`socket closed (${code}) before the next message`));
    socket.once('close', onClose);
    socket.once('message', (data) => {
      socket.off('close', onClose);
      resolve(JSON.parse(data.toString()));
    });
  });
}

async function acknowledged() {
  const raw = await rawSocket();
  const ack = nextMessage(raw.socket);
  raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } }));
  expect((await ack).type).toBe('connection_ack');
  return raw;
}

// ---- limits on both transports ---------------------------------------------------------

describe('operation limits, the same over HTTP and WebSocket', () => {
  const refused: Array<[string, () => string]> = [
    ['a 40-deep nested query', () => nested(13)],
    ['a 40-deep query built from fragments', () => deepFragments(14)],
    ['depth 11 (limit 10)', () => ofDepth(11)],
    ['16 aliases (limit 15)', () => aliases(16)],
    ['1001 tokens (limit 1000)', () => tokens(1001)],
    ['a cost over the limit (100 × 100 users)', () => costly],
    [
      'followers three levels deep with default pages (20³ rows)',
      () => '{ me { followers { edges { node { followers { edges { node { followers { edges { node { id username } } } } } } } } } } }',
    ],
    ['a fragment bomb (20^20 fields once expanded)', () => fragmentBomb()],
    ['995 copies of one field (too costly to validate)', () => sameFieldMany],
  ];

  it('builds the token cases exactly', () => {
    expect(tokenCount(tokens(1000))).toBe(1000);
    expect(tokenCount(tokens(1001))).toBe(1001);
    expect(tokenCount(fragmentBomb())).toBeLessThan(1000);
  });

  it.each(refused)('refuses %s with 400 QUERY_TOO_COMPLEX over HTTP, before execution', async (_name, doc) => {
    const before = t.sql.count;
    const started = Date.now();
    const res = await overHttp(doc());
    expect(res.status).toBe(400);
    expect(codeOf(res as never)).toBe('QUERY_TOO_COMPLEX');
    expect(res.data).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
    // Nothing ran: not a single SQL statement (the bearer token is checked without SQL).
    expect(t.sql.count).toBe(before);
    await expectStillServing();
  });

  it.each(refused)('refuses %s with QUERY_TOO_COMPLEX over WebSocket, socket stays usable', async (_name, doc) => {
    const client = t.wsClient(user.token);
    const res = await run(client, doc());
    expect(res.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(res.errors?.[0]?.extensions?.http).toBeUndefined();
    expect(res.data).toBeUndefined();
    const after = await run(client, print(MeDocument));
    expect((after.data as { me: { id: string } }).me.id).toBe(user.id);
    await client.dispose();
  });

  it.each([
    ['depth 10', ofDepth(10)],
    ['15 aliases', aliases(15)],
    ['1000 tokens', tokens(1000)],
  ])('accepts %s (at the limit) on both transports', async (_name, doc) => {
    const http = await overHttp(doc);
    expect(http.errors).toBeUndefined();
    expect(http.status).toBe(200);
    const ws = await overWs(doc);
    expect(ws.errors).toBeUndefined();
  });

  it('names the same code and message on both transports', async () => {
    for (const doc of [nested(13), aliases(16), tokens(1001), costly]) {
      const http = await overHttp(doc);
      const ws = await overWs(doc);
      expect(ws.errors!.map((e) => [e.message, e.extensions?.code])).toEqual(http.errors!.map((e) => [e.message, e.extensions?.code]));
    }
  });

  it('lets the standard introspection query through outside production (GraphQL tools need it)', async () => {
    const res = await overHttp(getIntrospectionQuery(), {});
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect((res.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(10);
  });

  it('refuses variables of the wrong type with BAD_USER_INPUT on both transports, never a 500', async () => {
    const doc = 'query ($n: Int) { searchUsers(query: "a", first: $n) { edges { cursor } } }';
    const http = await overHttp(doc, { n: 'many' });
    expect(http.status).toBe(400);
    expect(codeOf(http as never)).toBe('BAD_USER_INPUT');
    const ws = await overWs(doc, { n: 'many' });
    expect(ws.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

// ---- HTTP only -------------------------------------------------------------------------

describe('HTTP request limits', () => {
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(t.app.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}`, ...headers }, body });

  it('answers a 1,000,000-character query with 413 and a GraphQL-shaped error, then keeps serving', async () => {
    const query = `{ me { ${'id '.repeat(333_330)}} }`;
    expect(query.length).toBeGreaterThanOrEqual(1_000_000);
    const res = await post(JSON.stringify({ query }));
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { errors: GraphQLFormattedError[] };
    expect(body.errors[0].extensions?.code).toBe('BAD_REQUEST');
    expect(body.errors[0].message).toMatch(/over 102400 bytes/);
    await expectStillServing();
  });

  it('answers a 1,000,000-character query in a GET URL with 431 and a GraphQL error, then keeps serving', async () => {
    const url = `${t.app.url}?query=${encodeURIComponent(`{ me { ${'id '.repeat(333_330)}} }`)}`;
    const res = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { errors: GraphQLFormattedError[] };
    expect(body.errors[0].extensions?.code).toBe('BAD_REQUEST');
    expect(body.errors[0].message).toMatch(/POST body/);
    await expectStillServing();
  });

  it('refuses deeply nested JSON in variables (40,000 levels; 30,000 in a WebSocket frame) with BAD_USER_INPUT', async () => {
    const deepJson = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const query = 'mutation ($ids: [ID!]!) { acceptMessageRequests(ids: $ids) { succeeded } }';
    const res = await post(`{"query": ${JSON.stringify(query)}, "variables": {"ids": ${deepJson(40_000)}}}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: GraphQLFormattedError[] }).errors[0].extensions?.code).toBe('BAD_USER_INPUT');
    const { socket } = await acknowledged();
    const answer = nextMessage(socket);
    socket.send(`{"id":"1","type":"subscribe","payload":{"query":${JSON.stringify(query)},"variables":{"ids":${deepJson(30_000)}}}}`);
    const msg = (await answer) as { type: string; payload: GraphQLFormattedError[] };
    expect(msg.type).toBe('error');
    expect(msg.payload[0].extensions?.code).toBe('BAD_USER_INPUT');
    socket.close();
    await expectStillServing();
  });

  it('accepts a body just under 100 KB (whitespace is not tokens)', async () => {
    const query = `{ me { id } }${' '.repeat(100 * 1024 - 200)}`;
    const res = await post(JSON.stringify({ query }));
    expect(res.status).toBe(200);
  });

  it('answers the same whichever way a JSON body comes: charset, gzip, chunked, empty', async () => {
    const me = JSON.stringify({ query: '{ me { id } }' });
    const expectMe = async (res: Response) => {
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(((await res.json()) as { data: { me: { id: string } } }).data.me.id).toBe(user.id);
    };
    await expectMe(await post(me, { 'content-type': 'application/json; charset=utf-8' }));
    await expectMe(await post(gzipSync(me), { 'content-encoding': 'gzip' }));
    // No content-length: the limit is enforced while reading.
    const chunked = (text: string) =>
      Readable.toWeb(Readable.from([Buffer.from(text.slice(0, 10)), Buffer.from(text.slice(10))])) as unknown as ReadableStream;
    await expectMe(await fetch(t.app.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` }, body: chunked(me), duplex: 'half' } as RequestInit));
    const big = await fetch(t.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunked(JSON.stringify({ query: `{ me { id } }${' '.repeat(200 * 1024)}` })),
      duplex: 'half',
    } as RequestInit);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { errors: GraphQLFormattedError[] }).errors[0].extensions?.code).toBe('BAD_REQUEST');
    const empty = await post('');
    expect(empty.status).toBe(400);
    expect(((await post('"just a string"')).status)).toBe(400);
    await expectStillServing();
  });

  it('refuses malformed JSON with 400, not 500', async () => {
    const res = await post('{"query": ');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: GraphQLFormattedError[] }).errors[0].extensions?.code).toBe('BAD_REQUEST');
  });

  it('refuses a batch (an array of operations) with 400', async () => {
    const res = await post(JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: GraphQLFormattedError[] };
    expect(body.errors[0].message).toMatch(/batching/i);
  });

  it('blocks a GET without apollo-require-preflight (CSRF) and allows it with the header', async () => {
    const url = `${t.app.url}?query=${encodeURIComponent('{ me { id } }')}`;
    const blocked = await fetch(url, { headers: { authorization: `Bearer ${user.token}` } });
    expect(blocked.status).toBe(400);
    expect(((await blocked.json()) as { errors: GraphQLFormattedError[] }).errors[0].message).toMatch(/CSRF/);
    const allowed = await fetch(url, { headers: { authorization: `Bearer ${user.token}`, 'apollo-require-preflight': 'true' } });
    expect(allowed.status).toBe(200);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'blocks a simple %s POST (CSRF) with 400 and runs nothing',
    async (contentType) => {
      const res = await post(JSON.stringify({ query: 'mutation { updateProfile(input: { displayName: "csrf" }) { id } }' }), { 'content-type': contentType });
      expect(res.status).toBe(400);
      const [row] = await t.query<{ display_name: string }>('SELECT display_name FROM users WHERE id = $1', [user.id]);
      expect(row.display_name).not.toBe('csrf');
    },
  );
});

// ---- WebSocket only --------------------------------------------------------------------

describe('WebSocket limits', () => {
  it('closes a socket that sends a frame over 64 KiB (1009) and keeps serving others', async () => {
    const { socket, closed } = await acknowledged();
    // A frame under the limit is fine, even if mostly whitespace.
    const small = nextMessage(socket);
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ me { id } }${' '.repeat(60 * 1024)}` } }));
    expect(await small).toMatchObject({ id: '1', type: 'next', payload: { data: { me: { id: user.id } } } });
    socket.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: `{ me { ${'id '.repeat(333_330)}} }` } }));
    expect((await closed).code).toBe(1009);
    await expectStillServing();
  });

  it('closes a socket that does not send connection_init within 3 s (4408)', async () => {
    const { closed } = await rawSocket();
    const { code, afterMs } = await closed;
    expect(code).toBe(4408);
    expect(afterMs).toBeGreaterThanOrEqual(2900);
    expect(afterMs).toBeLessThan(4500);
  });

  it('refuses a connection without a valid token (4403)', async () => {
    const raw = await rawSocket();
    raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer nope' } }));
    expect((await raw.closed).code).toBe(4403);
  });

  it('allows 20 subscriptions per socket; the 21st gets an error; closing one frees a slot', async () => {
    const { socket, closed } = await acknowledged();
    const query = print(OnInboxBadgeChangedDocument);
    const before = t.app.services.events.listenerCount();
    for (let i = 1; i <= 20; i++) socket.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query } }));
    await until('20 live subscriptions', () => t.app.services.events.listenerCount() === before + 20);

    const refused = nextMessage(socket);
    socket.send(JSON.stringify({ id: 's21', type: 'subscribe', payload: { query } }));
    const answer = (await refused) as { id: string; type: string; payload: GraphQLFormattedError[] };
    expect(answer).toMatchObject({ id: 's21', type: 'error' });
    expect(answer.payload[0].extensions?.code).toBe('RATE_LIMITED');
    expect(answer.payload[0].message).toMatch(/20 subscriptions/);

    socket.send(JSON.stringify({ id: 's1', type: 'complete' }));
    await until('a freed slot', () => t.app.services.events.listenerCount() === before + 19);
    socket.send(JSON.stringify({ id: 's22', type: 'subscribe', payload: { query } }));
    await until('20 live subscriptions', () => t.app.services.events.listenerCount() === before + 20);

    socket.close(1000);
    await closed;
    // A closed socket leaves no subscription stream behind.
    await until('all subscriptions gone', () => t.app.services.events.listenerCount() === before);
  });
});

// ---- production --------------------------------------------------------------------------

describe('in production', () => {
  let prod: TestApp;
  let prodUser: TestUser;
  beforeAll(async () => {
    prod = await startTestApp({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
    prodUser = await prod.makeUser();
  });
  afterAll(() => prod.close());

  const viaWs = async (query: string) => {
    const client = prod.wsClient(prodUser.token);
    try {
      return await run(client, query);
    } finally {
      await client.dispose();
    }
  };

  it('refuses introspection over HTTP and WebSocket', async () => {
    const query = '{ __schema { types { name } } }';
    const http = await prod.gql(query, {}, prodUser.token);
    expect(http.status).toBe(400);
    expect(codeOf(http)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(http.data).toBeUndefined();
    const ws = await viaWs(query);
    expect(ws.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(ws.data).toBeUndefined();
    // __typename is not introspection of the schema.
    expect((await prod.gql('{ __typename }', {}, prodUser.token)).status).toBe(200);
  });

  it('gives no "Did you mean" suggestions over HTTP or WebSocket', async () => {
    const query = '{ mee { id } }';
    const http = await prod.gql(query, {}, prodUser.token);
    expect(http.status).toBe(400);
    expect(http.errors![0].message).toBe('Cannot query field "mee" on type "Query".');
    const ws = await viaWs(query);
    expect(ws.errors![0].message).toBe('Cannot query field "mee" on type "Query".');
    // Not in variable coercion either (an enum value close to a real one).
    const coercion = await prod.gql(
      'mutation ($p: DirectMessagePolicy!) { updateMessagingSettings(input: { directMessagePolicy: $p }) { id } }',
      { p: 'EVERYON' },
      prodUser.token,
    );
    expect(coercion.status).toBe(400);
    expect(coercion.errors![0].message).not.toMatch(/did you mean/i);
  });

  it('still suggests outside production (the contrast)', async () => {
    const http = await t.gql('{ mee { id } }', {}, user.token);
    expect(http.errors![0].message).toMatch(/Did you mean "me"\?/);
  });
});

