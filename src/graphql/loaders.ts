import { createRelationshipLoaders } from '../modules/relationships/relationships.loaders';
import { createUserLoaders } from '../modules/users/users.loaders';
import { createRequestLoaders } from '../modules/requests/requests.loaders';
import { createConversationLoaders } from '../modules/conversations/conversations.loaders';
import { createMessageLoaders } from '../modules/messages/messages.loaders';
import { createMessageActionLoaders } from '../modules/messages/message-actions.loaders';
import type { Services } from '../services';

export interface LoaderOptions {
  /** False for subscriptions, which live long and must not serve stale rows. */
  cache: boolean;
}

type LoaderGroup = (services: Services, viewerId: string | null, opts: LoaderOptions) => object;

/** Each module's per-request DataLoaders. */
const GROUPS = [
  (s: Services, _viewerId: string | null, o: LoaderOptions) => createUserLoaders(s.users, o),
  (s: Services, viewerId: string | null, o: LoaderOptions) => createRelationshipLoaders(s.relationships, viewerId, o),
  (s: Services, viewerId: string | null, o: LoaderOptions) => createRequestLoaders(s.requests, s.requestSend, s.users, viewerId, o),
  (s: Services, viewerId: string | null, o: LoaderOptions) => createConversationLoaders(s.conversations, viewerId, o),
  (s: Services, viewerId: string | null, o: LoaderOptions) => createMessageLoaders(s.messages, viewerId, o),
  (s: Services, viewerId: string | null, o: LoaderOptions) => createMessageActionLoaders(s.messageActions, s.sealedTexts, viewerId, o),
] as const satisfies readonly LoaderGroup[];

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
export type Loaders = UnionToIntersection<ReturnType<(typeof GROUPS)[number]>>;

/**
 * Loaders are built on first use, a module's group at a time: most operations touch one
 * or two, and building all of them for every request was 4 % of the trivial query's
 * profile. A group's loaders are own properties once built, shadowing these getters.
 */
class LazyLoaders {
  constructor(
    readonly services: Services,
    readonly viewerId: string | null,
    readonly opts: LoaderOptions,
  ) {}
}

// Which group builds which loader. A group only constructs DataLoaders (no I/O), so
// calling it once with placeholders at load time is safe.
GROUPS.forEach((group: LoaderGroup) => {
  for (const key of Object.keys(group({} as Services, null, { cache: false }))) {
    Object.defineProperty(LazyLoaders.prototype, key, {
      get(this: LazyLoaders) {
        const built = group(this.services, this.viewerId, this.opts) as Record<string, unknown>;
        for (const [name, loader] of Object.entries(built)) Object.defineProperty(this, name, { value: loader, enumerable: true });
        return built[key];
      },
    });
  }
});

/** The loaders of one HTTP request or one subscription event. */
export function createLoaders(services: Services, viewerId: string | null, opts: LoaderOptions = { cache: true }): Loaders {
  return new LazyLoaders(services, viewerId, opts) as unknown as Loaders;
}
