import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { Pool, PoolConfig } from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config';
import type { Clock } from './lib/clock';
import { Limiter } from './lib/rate-limit';
import type { EventBus, UserEvent } from './graphql/pubsub';
import { AccountLimits } from './graphql/account-limits';
import { AuthService } from './modules/users/auth.service';
import { UsersService } from './modules/users/users.service';
import { HiddenWordsService } from './modules/users/hidden-words.service';
import { SessionsService } from './modules/users/sessions.service';
import { RelationshipsService } from './modules/relationships/relationships.service';
import { EventsService } from './modules/notifications/events.service';
import { EventVisibility } from './modules/notifications/event-visibility';
import { ConversationsService } from './modules/conversations/conversations.service';
import { MessagesService } from './modules/messages/messages.service';
import { MessageActionsService } from './modules/messages/message-actions.service';
import { SealedTextsService } from './modules/messages/sealed-texts.service';
import { BATCH_SQL } from './modules/messages/send-batch';
import { SendBatchThread, threadConnection, type ThreadListener } from './modules/messages/send-batch-thread';
import { SendBatcher } from './modules/messages/send-batcher';
import { BansService } from './modules/moderation/bans.service';
import { ModerationService } from './modules/moderation/moderation.service';
import { NotificationsService } from './modules/notifications/notifications.service';
import { BadgeService, type Badge } from './modules/notifications/badge.service';
import { BadgeFeed } from './modules/notifications/badge-feed';
import { RequestsService } from './modules/requests/requests.service';
import { RequestSendService } from './modules/requests/request-send.service';
import { RequestTriageService } from './modules/requests/triage.service';

export interface ServiceDeps {
  dataSource: DataSource;
  /** The rate limiters' pool; the main pool when absent (scripts). */
  limitsPool?: Pool;
  config: Config;
  clock: Clock;
  pubsub: EventBus;
  logger: Logger;
  /** Each event as it reaches a subscriber stream on this instance (the publish-lag metric). */
  onDeliver?: (event: UserEvent) => void;
  /** An app that serves clients, not a script: only it starts the send batch thread (SEND_BATCH_THREAD). */
  serving?: boolean;
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
  const hiddenWords = new HiddenWordsService(dataSource, clock, config.limits.hiddenWordsMax);
  const relationships = new RelationshipsService(dataSource, users);
  const events = new EventsService(dataSource, deps.pubsub, clock, deps.onDeliver);
  const eventVisibility = new EventVisibility(events, relationships, clock);
  const conversations = new ConversationsService(dataSource, { clock, events });
  const bans = new BansService(dataSource, clock);
  const messages = new MessagesService(dataSource, { clock, events, conversations, relationships, visibility: eventVisibility });
  // Bursts of `messageRateBurst` sends, refilled over burst / rate seconds (see SendRateLimit).
  const sendLimiter = new Limiter(pool, 'send', config.limits.messageRateBurst, config.limits.messageRateBurst / config.limits.messageRatePerSecond);
  const moderationSettings = { ...config.moderation, newAccountHours: config.requests.newAccountHours };
  const moderation = new ModerationService(dataSource, clock, moderationSettings, users, relationships, conversations, sendLimiter);
  const batching = config.sendBatching;
  const appPool = (dataSource.driver as unknown as { master: { options: PoolConfig } }).master.options;
  const thread =
    batching.enabled && batching.thread && deps.serving
      ? (listener: ThreadListener) => new SendBatchThread({ connection: threadConnection(appPool), sql: BATCH_SQL, maxBatch: batching.maxBatch, spacing: batching.spacing }, listener)
      : undefined;
  // sendMessage's group commit counts its sends in the same rows as sendLimiter.
  const sendBatcher = new SendBatcher(
    { dataSource, clock, messages, consumeSend: (id) => moderation.consumeSend(id), publish: (tx, written) => events.publishOnCommit(tx, written), logger: deps.logger, thread },
    { ...config.sendBatching, rate: { points: config.limits.messageRateBurst, windowMs: (config.limits.messageRateBurst / config.limits.messageRatePerSecond) * 1000 } },
  );
  // Reports, follows and bulk request actions (AccountRateLimit).
  const limits = new AccountLimits(pool, config.limits);
  const notifications = new NotificationsService(dataSource, events, clock);
  const requests = new RequestsService(dataSource, clock, relationships, conversations, notifications, events);
  const requestSend = new RequestSendService(dataSource, config, clock, conversations, messages, notifications, events, requests);
  const triage = new RequestTriageService(dataSource, clock, relationships, events);
  const badge = new BadgeService(dataSource, clock);
  // The badges a batch of events asks for within one tick are read together, in one statement.
  const badgesTogether = new DataLoader<string, Badge>((ids) => badge.badges(ids), { cache: false, maxBatchSize: 500 });
  const badgeFeed = new BadgeFeed(events, (userId) => badgesTogether.load(userId), config.events.badgeCoalesceMs, deps.logger);
  const messageActions = new MessageActionsService(dataSource, { clock, events, conversations, messages, visibility: eventVisibility, settings: config.messageActions });
  // An intro's text lives in its request too; unsending a pending intro withdraws the request.
  messageActions.onIntroChanged((tx, change) => requests.introChangedInTx(tx, change));
  const sealedTexts = new SealedTextsService(dataSource, clock);
  return {
    config, clock, auth, sessions, users, hiddenWords, relationships, events, eventVisibility, conversations, messages, sendBatcher, bans, moderation, limits, notifications,
    requests, requestSend, triage, badge, badgeFeed, messageActions, sealedTexts, pubsub: deps.pubsub, logger: deps.logger,
  };
}

export type Services = ReturnType<typeof createServices>;
