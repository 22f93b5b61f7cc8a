import 'reflect-metadata';
import { buildSchema } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { RelationshipsResolver } from '../modules/relationships/relationships.resolver';
import { UsersResolver } from '../modules/users/users.resolver';

export const resolvers = [UsersResolver, RelationshipsResolver] as const;

let cached: Promise<GraphQLSchema> | null = null;

/** The schema is code-first; schema/schema.graphql is its committed, checked print. */
export function buildAppSchema(): Promise<GraphQLSchema> {
  cached ??= buildSchema({
    resolvers: [...resolvers] as unknown as [Function, ...Function[]],
    validate: false,
    emitSchemaFile: false,
  });
  return cached;
}
