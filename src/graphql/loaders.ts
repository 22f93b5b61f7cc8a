import { createRelationshipLoaders } from '../modules/relationships/relationships.loaders';
import { createUserLoaders } from '../modules/users/users.loaders';
import { createRequestLoaders } from '../modules/requests/requests.loaders';
import { createConversationLoaders } from '../modules/conversations/conversations.loaders';
import { createMessageLoaders } from '../modules/messages/messages.loaders';
import type { Services } from '../services';

/** Every per-request DataLoader, built fresh for each HTTP request or subscription event. */
export interface LoaderOptions {
  /** False for subscriptions, which live long and must not serve stale rows. */
  cache: boolean;
}

export function createLoaders(services: Services, viewerId: string | null, opts: LoaderOptions = { cache: true }) {
  return {
    ...createUserLoaders(services.users, opts),
    ...createRelationshipLoaders(services.relationships, viewerId, opts),
    ...createRequestLoaders(services.requests, opts),
    ...createConversationLoaders(services.conversations, viewerId, opts),
    ...createMessageLoaders(services.messages, opts),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
