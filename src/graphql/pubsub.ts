import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Revocation } from '../modules/users/session-rules';

/** What travels to subscribers: one account's event, as written to its event log. */
export interface UserEvent {
  userId: string;
  cursor: string;
  type: string;
  payload: Record<string, unknown>;
  /** ms since epoch at publish, for the publish-lag metric. */
  publishedAt: number;
  /**
   * MESSAGE_RECEIVED from a send: the message as it was posted (messages/posted-message.ts),
   * so that its live delivery reads nothing, on this instance or another. The send decided
   * its rules (blocks either way included) as it committed. Travels through Redis, never
   * into the event log or a log line.
   */
  posted?: Record<string, unknown>;
}

/**
 * `user`: one account's events, to its subscribers. `sessionRevoked`: a logOut or a
 * password change, heard by every instance so it drops the token at once (the database
 * stays the truth: sessions.service.ts).
 */
export interface EventBus extends PubSub<{ user: [userId: string, event: UserEvent]; sessionRevoked: [revocation: Revocation] }> {
  /**
   * Calls `onEvent` with each event published to `userId` until the returned function is
   * called. Unlike `subscribe('user', …)` it adds no stream of its own: the live
   * subscriptions build their one stream layer on it (events.service.ts), since every
   * layer costs time on each delivery and memory for each subscriber.
   */
  listen(userId: string, onEvent: (event: UserEvent) => void): () => void;
}

/** What createPubSub and listen() need of an event target: the in-process one below, or Redis's. */
type TopicTarget = Pick<EventTarget, 'addEventListener' | 'removeEventListener' | 'dispatchEvent'>;

/** The bus over an event target: createPubSub's publish and subscribe, and listen(). */
export function eventBusOver(target: TopicTarget = localEventTarget()): EventBus {
  const pubsub = createPubSub({ eventTarget: target }) as EventBus;
  pubsub.listen = (userId, onEvent) => {
    const topic = `user:${userId}`;
    const listener = (event: Event) => onEvent((event as CustomEvent<UserEvent>).detail);
    target.addEventListener(topic, listener);
    return () => target.removeEventListener(topic, listener);
  };
  return pubsub;
}

/**
 * In-process topics: a set of listeners per topic, called in the order they were added.
 * Node's EventTarget does the same with more work per dispatch on every delivery, and
 * warns about leaks past 10 listeners of one topic, where an account may have one per
 * open subscription stream (up to 20 per socket, any number of sockets). A listener that
 * throws does not keep the event from the ones after it; the first error is thrown to the
 * publisher once all have been called.
 */
function localEventTarget(): TopicTarget {
  type Listener = (event: Event) => void;
  const topics = new Map<string, Set<Listener>>();
  return {
    addEventListener(topic: string, listener: unknown) {
      if (typeof listener !== 'function') return;
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(listener as Listener);
    },
    removeEventListener(topic: string, listener: unknown) {
      const set = topics.get(topic);
      if (!set || typeof listener !== 'function') return;
      set.delete(listener as Listener);
      if (set.size === 0) topics.delete(topic);
    },
    dispatchEvent(event: Event) {
      const set = topics.get(event.type);
      if (!set) return true;
      let failed = false;
      let first: unknown;
      // A listener added or removed by another one's call takes effect from the next event.
      for (const listener of [...set]) {
        try {
          listener(event);
        } catch (err) {
          if (!failed) first = err;
          failed = true;
        }
      }
      if (failed) throw first;
      return true;
    },
  };
}

export type BusStatus = 'in-process' | 'ready' | 'degraded';

export interface Bus {
  pubsub: EventBus;
  /**
   * 'in-process' without REDIS_URL; otherwise 'ready' when both Redis connections are
   * up (publishing and subscribed), else 'degraded': mutations still commit, live
   * delivery across instances pauses, and clients catch up with `events(after)`.
   */
  status(): BusStatus;
  close(): Promise<void>;
}

/**
 * In-process by default; with REDIS_URL every instance publishes to and hears from Redis.
 * A Redis outage must never fail or stall a mutation: publishes are fire-and-forget with
 * no offline queue, and clients recover what they missed from `events(after)`.
 */
export function createBus(redisUrl: string | undefined, logger: Logger): Bus {
  if (!redisUrl) return { pubsub: eventBusOver(), status: () => 'in-process', close: async () => undefined };

  // Reconnect quickly (at most 1 s apart) so a restarted Redis is used again at once.
  const retryStrategy = (times: number) => Math.min(times * 100, 1000);
  const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false, retryStrategy, connectionName: 'mr-publish' };
  const publishClient = new Redis(redisUrl, options);
  // The subscriber keeps an offline queue so SUBSCRIBE is re-sent after a reconnect.
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null, autoResubscribe: true, retryStrategy, connectionName: 'mr-subscribe' });
  for (const [name, client] of [['publish', publishClient], ['subscribe', subscribeClient]] as const) {
    client.on('error', (err) => logger.warn({ err: err.message, client: name }, 'redis error'));
  }
  // The event target calls publish/subscribe without handling their promises; these
  // wrappers keep a refused publish from becoming an unhandled rejection.
  const safePublish = {
    publish: (channel: string, message: string) =>
      publishClient.publish(channel, message).catch((err: Error) => {
        logger.warn({ err: err.message }, 'redis publish failed; clients will catch up from the event log');
        return 0;
      }),
  };
  const safeSubscribe = new Proxy(subscribeClient, {
    get(target, prop, receiver) {
      if (prop === 'subscribe' || prop === 'unsubscribe') {
        return (...channels: string[]) =>
          (target[prop] as (...c: string[]) => Promise<unknown>)(...channels).catch((err: Error) =>
            logger.warn({ err: err.message }, `redis ${String(prop)} failed`),
          );
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const eventTarget = createRedisEventTarget({
    publishClient: safePublish as unknown as Redis,
    subscribeClient: safeSubscribe,
  });
  return {
    pubsub: eventBusOver(eventTarget),
    status: () => (publishClient.status === 'ready' && subscribeClient.status === 'ready' ? 'ready' : 'degraded'),
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
