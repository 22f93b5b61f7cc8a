import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config';
import type { Clock } from './lib/clock';
import { Limiter } from './lib/rate-limit';
import type { EventBus } from './graphql/pubsub';
import { AuthService } from './modules/users/auth.service';
import { UsersService } from './modules/users/users.service';
import { SessionsService } from './modules/users/sessions.service';
import { RelationshipsService } from './modules/relationships/relationships.service';
import { EventsService } from './modules/notifications/events.service';
import { ConversationsService } from './modules/conversations/conversations.service';
import { MessagesService } from './modules/messages/messages.service';
import { BansService } from './modules/moderation/bans.service';
import { ModerationService } from './modules/moderation/moderation.service';
import { NotificationsService } from './modules/notifications/notifications.service';
import { BadgeService } from './modules/notifications/badge.service';
import { RequestsService } from './modules/requests/requests.service';

export interface ServiceDeps {
  dataSource: DataSource;
  /** The rate limiters' pool; the main pool when absent (scripts). */
  limitsPool?: Pool;
  config: Config;
  clock: Clock;
  pubsub: EventBus;
  logger: Logger;
}

/** The composition root: one instance of each service per app. */
export function createServices(deps: ServiceDeps) {
  const { dataSource, config, clock } = deps;
  // Rate-limit counters commit asynchronously when the app gives their own pool (database.ts).
  const pool = deps.limitsPool ?? (dataSource.driver as unknown as { master: Pool }).master;
  const auth = new AuthService(config.jwtSecret, config.tokenTtlSeconds);
  const sessions = new SessionsService(dataSource, auth, deps.pubsub, config.tokenRecheckSeconds * 1000, deps.logger);
  // Each attempt costs an argon2 hash: counted before it is spent (UsersService).
  const accountLimits = {
    logIn: new Limiter(pool, 'login', config.limits.loginFailuresPer15Min, 15 * 60),
    logInPerIp: new Limiter(pool, 'login-ip', config.limits.loginAttemptsPerIpPer15Min, 15 * 60),
    signUpPerIp: new Limiter(pool, 'signup-ip', config.limits.signUpsPerIpPerHour, 60 * 60),
  };
  const users = new UsersService(dataSource, auth, sessions, clock, accountLimits);
  const relationships = new RelationshipsService(dataSource, users);
  const events = new EventsService(dataSource, deps.pubsub, clock);
  const conversations = new ConversationsService(dataSource, { clock, events });
  const bans = new BansService(dataSource, clock);
  const messages = new MessagesService(dataSource, { clock, events, conversations, relationships });
  // Bursts of `messageRateBurst` sends, refilled over burst / rate seconds (see SendRateLimit).
  const sendLimiter = new Limiter(pool, 'send', config.limits.messageRateBurst, config.limits.messageRateBurst / config.limits.messageRatePerSecond);
  const moderation = new ModerationService(dataSource, clock, config.moderation, users, relationships, conversations, sendLimiter);
  const notifications = new NotificationsService(dataSource, events, clock);
  const requests = new RequestsService(dataSource, config, clock, relationships, conversations, messages, notifications, events);
  const badge = new BadgeService(requests, conversations, notifications);
  return { config, clock, auth, sessions, users, relationships, events, conversations, messages, bans, moderation, notifications, requests, badge, pubsub: deps.pubsub, logger: deps.logger };
}

export type Services = ReturnType<typeof createServices>;
