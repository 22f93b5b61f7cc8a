import 'reflect-metadata';
import { buildSchema } from 'type-graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import type { GraphQLSchema } from 'graphql';
import { RelationshipsResolver } from '../modules/relationships/relationships.resolver';
import { UsersResolver } from '../modules/users/users.resolver';
import { HiddenWordsResolver } from '../modules/users/hidden-words.resolver';
import { MessageButtonResolver, RequestsResolver } from '../modules/requests/requests.resolver';
import { RequestTriageResolver } from '../modules/requests/triage.resolver';
import { NotificationsResolver } from '../modules/notifications/notifications.resolver';
import { ModerationResolver } from '../modules/moderation/moderation.resolver';
import { ConversationsResolver } from '../modules/conversations/conversations.resolver';
import { MessagesResolver, SeenEventResolver } from '../modules/messages/messages.resolver';
import { EventLogMessageResolver, MessageActionsResolver, ReactionEventResolver } from '../modules/messages/message-actions.resolver';

export const resolvers = [
  UsersResolver,
  RelationshipsResolver,
  RequestsResolver,
  MessageButtonResolver,
  RequestTriageResolver,
  NotificationsResolver,
  ModerationResolver,
  ConversationsResolver,
  MessagesResolver,
  SeenEventResolver,
  HiddenWordsResolver,
  MessageActionsResolver,
  ReactionEventResolver,
  EventLogMessageResolver,
] as const;

let cached: Promise<GraphQLSchema> | null = null;

/** The schema is code-first; schema/schema.graphql is its committed, checked print. */
export function buildAppSchema(): Promise<GraphQLSchema> {
  cached ??= buildSchema({
    resolvers: [...resolvers] as unknown as [Function, ...Function[]],
    validate: false,
    emitSchemaFile: false,
    // Required by type-graphql whenever a schema has subscriptions. Ours never use topics:
    // each subscription's `subscribe` reads the app's own event stream (EventsService),
    // so this one schema can serve every app instance in a process.
    pubSub: createPubSub(),
  });
  return cached;
}
