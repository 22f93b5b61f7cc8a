/**
 * The ceilings' server: bare Apollo Server 5 (`{ hello }`) and bare graphql-ws
 * on the same port, with the same subscription and mutation shapes as ours but no
 * database, no auth check (the token's subject is read, not verified), no limits, no
 * loaders: an in-memory @graphql-yoga/subscription PubSub fans events out. It answers
 * "how fast can this transport stack go on this machine", nothing more. A JSON POST reaches
 * Apollo the way ours does (src/graphql/json-post.ts, no Express on that path), so the
 * ratio measures what our stack adds, not which HTTP framework each one uses.
 *
 * BENCH_CONVERSATIONS_FILE (JSON [[conversationId, userA, userB], …]) tells it who is in
 * which conversation, so a message or a seen receipt reaches the other participant.
 */
import 'reflect-metadata';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { jsonPostHandler } from '../src/graphql/json-post';
import { createPubSub } from '@graphql-yoga/subscription';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import {
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLNonNull,
  type GraphQLNullableType,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} from 'graphql';

type Ctx = { userId: string | null };
type Evt = { kind: 'message' | 'seen' | 'accepted'; payload: Record<string, unknown> };

const pubsub = createPubSub<{ user: [userId: string, event: Evt] }>();
const members = new Map<string, [string, string]>();
if (process.env.BENCH_CONVERSATIONS_FILE) {
  for (const [id, a, b] of JSON.parse(readFileSync(process.env.BENCH_CONVERSATIONS_FILE, 'utf8')) as Array<[string, string, string]>) members.set(id, [a, b]);
}
let cursor = 0;

function subjectOf(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const token = header.replace(/^Bearer\s+/i, '');
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub ?? null;
  } catch {
    return null;
  }
}

const nn = <T extends GraphQLNullableType>(t: T) => new GraphQLNonNull(t);
const User = new GraphQLObjectType({ name: 'User', fields: { id: { type: nn(GraphQLID) }, username: { type: GraphQLString } } });
const Message = new GraphQLObjectType({
  name: 'Message',
  fields: {
    id: { type: nn(GraphQLID) },
    text: { type: nn(GraphQLString) },
    createdAt: { type: nn(GraphQLString) },
    status: { type: nn(GraphQLString) },
    clientMessageId: { type: GraphQLString },
    sender: { type: nn(User) },
  },
});
const Conversation = new GraphQLObjectType({ name: 'Conversation', fields: { id: { type: nn(GraphQLID) }, unreadCount: { type: nn(GraphQLInt) } } });
const MessageEvent = new GraphQLObjectType({ name: 'MessageEvent', fields: { cursor: { type: nn(GraphQLString) }, message: { type: nn(Message) } } });
const SeenEvent = new GraphQLObjectType({
  name: 'SeenEvent',
  fields: {
    cursor: { type: nn(GraphQLString) },
    conversationId: { type: nn(GraphQLID) },
    upToMessageId: { type: nn(GraphQLID) },
    seenAt: { type: nn(GraphQLString) },
    reader: { type: nn(User) },
  },
});
const RequestRef = new GraphQLObjectType({ name: 'MessageRequest', fields: { id: { type: nn(GraphQLID) } } });
const MessageRequestEvent = new GraphQLObjectType({ name: 'MessageRequestEvent', fields: { cursor: { type: nn(GraphQLString) }, request: { type: nn(RequestRef) } } });
const SendMessageInput = new GraphQLInputObjectType({
  name: 'SendMessageInput',
  fields: { conversationId: { type: nn(GraphQLID) }, text: { type: nn(GraphQLString) }, clientMessageId: { type: GraphQLString } },
});

function stream(ctx: Ctx, kind: Evt['kind'], conversationId?: string | null): AsyncIterable<Evt> {
  const source = pubsub.subscribe('user', ctx.userId ?? 'nobody');
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      return {
        async next() {
          for (;;) {
            const n = await it.next();
            if (n.done) return n;
            if (n.value.kind === kind && (!conversationId || n.value.payload.conversationId === conversationId)) return n;
          }
        },
        return: () => it.return?.() ?? Promise.resolve({ done: true, value: undefined }),
      } as AsyncIterator<Evt>;
    },
  };
}

function others(conversationId: string, userId: string | null): string[] {
  const m = members.get(conversationId);
  if (!m) return [];
  return m.filter((u) => u !== userId);
}

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { hello: { type: GraphQLString, resolve: () => 'world' } } }),
  mutation: new GraphQLObjectType({
    name: 'Mutation',
    fields: {
      sendMessage: {
        type: nn(Message),
        args: { input: { type: nn(SendMessageInput) } },
        resolve: (_r, { input }: { input: { conversationId: string; text: string; clientMessageId?: string } }, ctx: Ctx) => {
          const message = { id: randomUUID(), text: input.text, createdAt: new Date().toISOString(), status: 'SENT', clientMessageId: input.clientMessageId ?? null, sender: { id: ctx.userId } };
          const payload = { conversationId: input.conversationId, message };
          for (const u of [...others(input.conversationId, ctx.userId), ctx.userId ?? '']) pubsub.publish('user', u, { kind: 'message', payload: { ...payload, cursor: String(++cursor) } });
          return message;
        },
      },
      markConversationSeen: {
        type: nn(Conversation),
        args: { conversationId: { type: nn(GraphQLID) }, upToMessageId: { type: GraphQLID } },
        resolve: (_r, { conversationId }: { conversationId: string }, ctx: Ctx) => {
          const payload = { conversationId, upToMessageId: randomUUID(), seenAt: new Date().toISOString(), reader: { id: ctx.userId } };
          for (const u of others(conversationId, ctx.userId)) pubsub.publish('user', u, { kind: 'seen', payload: { ...payload, cursor: String(++cursor) } });
          return { id: conversationId, unreadCount: 0 };
        },
      },
    },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      messageReceived: {
        type: nn(MessageEvent),
        args: { conversationId: { type: GraphQLID } },
        subscribe: (_r, a: { conversationId?: string }, ctx: Ctx) => stream(ctx, 'message', a.conversationId),
        resolve: (e: Evt) => e.payload,
      },
      messageSeen: {
        type: nn(SeenEvent),
        args: { conversationId: { type: GraphQLID } },
        subscribe: (_r, a: { conversationId?: string }, ctx: Ctx) => stream(ctx, 'seen', a.conversationId),
        resolve: (e: Evt) => e.payload,
      },
      messageRequestAccepted: {
        type: nn(MessageRequestEvent),
        subscribe: (_r, _a, ctx: Ctx) => stream(ctx, 'accepted'),
        resolve: (e: Evt) => e.payload,
      },
    },
  }),
});

async function main() {
  const app = express();
  let jsonPost: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | null = null;
  const server = http.createServer((req, res) => {
    if (!jsonPost?.(req, res)) app(req, res);
  });
  const wss = new WebSocketServer({ server, path: '/graphql' });
  let subscriptions = 0;
  useServer<Record<string, unknown>, { userId?: string | null }>(
    {
      schema,
      onConnect: (ctx) => {
        ctx.extra.userId = subjectOf(ctx.connectionParams?.authorization);
        return true;
      },
      context: (ctx) => ({ userId: ctx.extra.userId ?? null }),
      onSubscribe: () => {
        subscriptions++;
      },
      onComplete: () => {
        subscriptions--;
      },
    },
    wss,
  );
  const apollo = new ApolloServer<Ctx>({ schema, csrfPrevention: true, introspection: false });
  await apollo.start();
  jsonPost = jsonPostHandler({
    apollo,
    maxBodyBytes: 100 * 1024,
    requestId: () => randomUUID(),
    context: async (req) => ({ userId: subjectOf(req.headers.authorization) }),
    onRefused: () => undefined,
  });
  app.get('/healthz', (_q, r) => {
    r.json({ status: 'ok' });
  });
  app.get('/metrics', (_q, r) => {
    r.type('text/plain').send(`graphql_ws_sockets_active ${wss.clients.size}\ngraphql_subscriptions_active ${subscriptions}\n`);
  });
  app.use('/graphql', express.json({ limit: '100kb' }), expressMiddleware(apollo, { context: async ({ req }) => ({ userId: subjectOf(req.headers.authorization) }) }));
  await new Promise<void>((r) => server.listen(Number(process.env.PORT ?? 4100), process.env.HOST ?? '127.0.0.1', r));
  const stop = async () => {
    for (const c of wss.clients) c.terminate();
    await apollo.stop();
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
