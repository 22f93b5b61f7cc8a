import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config';
import type { Clock } from './lib/clock';
import { Limiter } from './lib/rate-limit';
import type { EventBus } from './graphql/pubsub';
import { AuthService } from './modules/users/auth.service';
import { UsersService } from './modules/users/users.service';
import { RelationshipsService } from './modules/relationships/relationships.service';
import { EventsService } from './modules/notifications/events.service';
import { ConversationsService } from './modules/conversations/conversations.service';
import { MessagesService } from './modules/messages/messages.service';
import { BansService } from './modules/moderation/bans.service';

export interface ServiceDeps {
  dataSource: DataSource;
  config: Config;
  clock: Clock;
  pubsub: EventBus;
  logger: Logger;
}

/** The composition root: one instance of each service per app. */
export function createServices(deps: ServiceDeps) {
  const { dataSource, config, clock } = deps;
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const auth = new AuthService(config.jwtSecret, config.tokenTtlHours);
  const loginLimiter = new Limiter(pool, 'login', config.limits.loginFailuresPer15Min, 15 * 60);
  const users = new UsersService(dataSource, auth, clock, loginLimiter, config.limits.loginFailuresPer15Min);
  const relationships = new RelationshipsService(dataSource, users);
  const events = new EventsService(dataSource, deps.pubsub, clock);
  const conversations = new ConversationsService(dataSource);
  const messages = new MessagesService(dataSource);
  const bans = new BansService(dataSource, clock);
  return { config, clock, auth, users, relationships, events, conversations, messages, bans, pubsub: deps.pubsub, logger: deps.logger };
}

export type Services = ReturnType<typeof createServices>;
