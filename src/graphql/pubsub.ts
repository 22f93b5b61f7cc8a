import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { setMaxListeners } from 'node:events';
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
export type EventBus = PubSub<{ user: [userId: string, event: UserEvent]; sessionRevoked: [revocation: Revocation] }>;

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
  if (!redisUrl) {
    // One listener per open subscription stream of an account (up to 20 per socket, any
    // number of sockets): Node's default of 10 per event would only print false leak warnings.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    return { pubsub: createPubSub({ eventTarget }), status: () => 'in-process', close: async () => undefined };
  }

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
    pubsub: createPubSub({ eventTarget }),
    status: () => (publishClient.status === 'ready' && subscribeClient.status === 'ready' ? 'ready' : 'degraded'),
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
