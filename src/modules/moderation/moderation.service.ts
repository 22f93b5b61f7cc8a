import type { DataSource, EntityManager } from 'typeorm';
import { DAY_MS, type Clock } from '../../lib/clock';
import { isUuid } from '../../lib/ids';
import type { Limiter } from '../../lib/rate-limit';
import { hasControlCharacters } from '../../lib/text';
import { runInTransaction, type Tx } from '../../db/transaction';
import { AppError, badInput, notFound } from '../../graphql/errors';
import { pageRequest, toConnection, type Connection } from '../../graphql/pagination';
import { ConversationsService } from '../conversations/conversations.service';
import { Message } from '../messages/message.entity';
import type { RelationshipsService } from '../relationships/relationships.service';
import type { User } from '../users/user.entity';
import type { UsersService } from '../users/users.service';
import { BanSource } from './messaging-ban.entity';
import { isActiveBanSql } from './bans.service';
import { countsTowardAutoBan } from './ban-rules';
import type { ReportsArgs, ReportUserInput } from './moderation.inputs';
import type { ReportView } from './moderation.types';
import { Report, ReportAction, ReportStatus } from './report.entity';

/** Distinct reporters are counted over this rolling window for the automatic ban. */
export const REPORT_WINDOW_DAYS = 7;
/** Messages shown to a moderator on each side of a reported message. */
export const CONTEXT_RADIUS = 3;
export const DETAILS_MAX_LENGTH = 1000;

export interface ModerationSettings {
  reportBanThreshold: number;
  /** A reporter younger than this when it reports does not count toward the automatic ban. */
  newAccountHours: number;
}

/**
 * Reports, the moderation queue, messaging bans and the send rate limit.
 *
 * Automatic ban: when `reportBanThreshold` distinct accounts have reported an account in
 * the last 7 days, the report that reaches the threshold bans it (source REPORTS, until
 * NULL = until a moderator reviews it), in the same transaction. Only reports that count
 * toward it are counted (ban-rules.ts: the reported account had contacted the reporter,
 * and the reporter was not a new account); that is decided under the lock below, from
 * facts read in the same transaction, and stored on the report. Every transaction that
 * writes reports about, or bans for, an account first takes a transaction-scoped advisory
 * lock on that account, so the count is exact however many reports race. Repeat reports
 * by one account count once; resolving a report does not remove it from the count.
 *
 * After a ban ends (a moderator lifts it, or a temporary ban expires) only reports filed
 * after that moment count: it takes `reportBanThreshold` distinct reporters again to ban
 * again, so one more report from an old reporter cannot undo a moderator's review. The
 * ended row stays in messaging_bans (its `until` in the past) to mark that moment.
 */
export class ModerationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly settings: ModerationSettings,
    private readonly users: UsersService,
    private readonly relationships: RelationshipsService,
    private readonly conversations: ConversationsService,
    private readonly sendLimiter: Limiter,
  ) {}

  async reportUser(reporterId: string, input: ReportUserInput): Promise<ReportView> {
    const details = checkDetails(input.details);
    const reported = await this.users.requireById(input.userId);
    // Compared after the lookup: the same uuid in upper case is still yourself.
    if (reported.id === reporterId) throw badInput('You cannot report yourself', 'userId');
    const message = input.messageId != null ? await this.reportableMessage(reporterId, reported.id, input.messageId) : null;
    const now = this.clock.now();
    const report = await runInTransaction(this.dataSource, async (tx) => {
      await this.lockAccount(tx, reported.id);
      const facts = await this.reportFacts(tx, reporterId, reported.id);
      const counts = countsTowardAutoBan({ ...facts, reportedAt: now, newAccountHours: this.settings.newAccountHours });
      const row = tx.manager.create(Report, {
        reporterId,
        reportedId: reported.id,
        reason: input.reason,
        messageId: message?.id ?? null,
        details,
        status: ReportStatus.OPEN,
        resolution: null,
        resolvedById: null,
        countsTowardAutoBan: counts,
        createdAt: now,
        resolvedAt: null,
      });
      await tx.manager.insert(Report, row);
      if (input.alsoBlock) await this.relationships.blockInTx(tx, reporterId, reported.id);
      // A report that does not count cannot change the count.
      if (counts) await this.banIfOverThreshold(tx, reported.id, now);
      return row;
    });
    return toView(report, message);
  }

  /** Moderators only: reports with `status`, oldest first (a queue), keyset on (createdAt, id). */
  async reports(moderatorId: string, args: ReportsArgs): Promise<Connection<ReportView>> {
    await this.users.requireModerator(moderatorId);
    const page = pageRequest(args, 2);
    const cursor = page.cursor ? checkCursor(page.cursor) : null;
    const dir = page.forward ? 'ASC' : 'DESC';
    const qb = this.dataSource
      .getRepository(Report)
      .createQueryBuilder('r')
      .where('r.status = :status', { status: args.status ?? ReportStatus.OPEN })
      .orderBy('r.created_at', dir)
      .addOrderBy('r.id', dir)
      .limit(page.limit + 1);
    if (cursor) {
      qb.andWhere(`(r.created_at, r.id) ${page.forward ? '>' : '<'} (:at::timestamptz, :id::uuid)`, { at: cursor.at, id: cursor.id });
    }
    const rows = await qb.getMany();
    const views = await this.hydrate(rows.slice(0, page.limit));
    const byId = new Map(views.map((v) => [v.id, v]));
    return toConnection(rows, page, (r) => [r.createdAt.toISOString(), r.id], (r) => byId.get(r.id)!);
  }

  /** Moderators only. Re-resolving is allowed (a correction); BAN bans until lifted. */
  async resolveReport(moderatorId: string, id: string, action: ReportAction): Promise<ReportView> {
    await this.users.requireModerator(moderatorId);
    if (!isUuid(id)) throw notFound('Report not found');
    const report = await runInTransaction(this.dataSource, async (tx) => {
      const found = await tx.manager.findOneBy(Report, { id });
      if (!found) throw notFound('Report not found');
      await this.lockAccount(tx, found.reportedId);
      const now = this.clock.now();
      Object.assign(found, { status: ReportStatus.RESOLVED, resolution: action, resolvedById: moderatorId, resolvedAt: now });
      await tx.manager.update(Report, { id }, { status: found.status, resolution: action, resolvedById: moderatorId, resolvedAt: now });
      if (action === ReportAction.BAN) await this.upsertBan(tx.manager, found.reportedId, null, BanSource.MODERATOR, moderatorId, now);
      return found;
    });
    return (await this.hydrate([report]))[0];
  }

  /** Moderators only. `until` null bans until lifted; otherwise it must be in the future. */
  async banFromMessaging(moderatorId: string, userId: string, until: Date | null): Promise<User> {
    await this.users.requireModerator(moderatorId);
    const target = await this.users.requireById(userId);
    const now = this.clock.now();
    if (until && until.getTime() <= now.getTime()) throw badInput('until must be in the future', 'until');
    await runInTransaction(this.dataSource, async (tx) => {
      await this.lockAccount(tx, target.id);
      await this.upsertBan(tx.manager, target.id, until, BanSource.MODERATOR, moderatorId, now);
    });
    return target;
  }

  /** Moderators only. Ends an active ban now (idempotent); see the class comment for what follows. */
  async liftMessagingBan(moderatorId: string, userId: string): Promise<User> {
    await this.users.requireModerator(moderatorId);
    const target = await this.users.requireById(userId);
    await runInTransaction(this.dataSource, async (tx) => {
      await this.lockAccount(tx, target.id);
      await tx.manager.query(`UPDATE messaging_bans SET until = $2 WHERE user_id = $1 AND ${isActiveBanSql('$2')}`, [
        target.id,
        this.clock.now(),
      ]);
    });
    return target;
  }

  async setVerified(moderatorId: string, userId: string, verified: boolean): Promise<User> {
    await this.users.requireModerator(moderatorId);
    return this.users.setVerified(userId, verified);
  }

  /**
   * One send spent from the account's budget (see SendRateLimit). A fixed window of
   * `burst` sends per `burst / rate` seconds, counted in PostgreSQL across instances.
   */
  async consumeSend(userId: string): Promise<void> {
    const result = await this.sendLimiter.consume(userId);
    if (!result.allowed) {
      throw new AppError('RATE_LIMITED', 'You are sending too fast; slow down', { retryAfter: result.retryAfter });
    }
  }

  /** The reported message and up to CONTEXT_RADIUS messages either side, by seq, per report. */
  async contextOf(reports: readonly ReportView[]): Promise<Map<string, Message[]>> {
    const anchorIds = [...new Set(reports.flatMap((r) => (r.message ? [r.message.id] : [])))];
    const windows = await this.messageWindows(anchorIds);
    return new Map(reports.map((r) => [r.id, r.message ? windows.get(r.message.id) ?? [] : []]));
  }

  private async hydrate(reports: readonly Report[]): Promise<ReportView[]> {
    const anchorIds = [...new Set(reports.flatMap((r) => (r.messageId ? [r.messageId] : [])))];
    const windows = await this.messageWindows(anchorIds);
    return reports.map((r) => {
      const window = r.messageId ? windows.get(r.messageId) ?? [] : [];
      const message = window.find((m) => m.id === r.messageId) ?? null;
      return { ...toView(r, message), context: window };
    });
  }

  /** One statement for any number of anchors: every message within the radius of one. */
  private async messageWindows(anchorIds: readonly string[]): Promise<Map<string, Message[]>> {
    const result = new Map<string, Message[]>();
    if (!anchorIds.length) return result;
    const rows = await this.dataSource
      .getRepository(Message)
      .createQueryBuilder('m')
      .where(
        `EXISTS (SELECT 1 FROM messages a WHERE a.id = ANY(:ids) AND a.conversation_id = m.conversation_id
                   AND m.seq BETWEEN a.seq - :radius AND a.seq + :radius)`,
        { ids: anchorIds, radius: CONTEXT_RADIUS },
      )
      .orderBy('m.seq', 'ASC')
      .getMany();
    for (const id of anchorIds) {
      const anchor = rows.find((m) => m.id === id);
      if (!anchor) continue;
      const seq = Number(anchor.seq);
      result.set(
        id,
        rows.filter((m) => m.conversationId === anchor.conversationId && Math.abs(Number(m.seq) - seq) <= CONTEXT_RADIUS),
      );
    }
    return result;
  }

  /**
   * A message the reporter can see, sent by the reported account: in the one conversation
   * of the pair. Anything else is NOT_FOUND, as if it did not exist.
   */
  private async reportableMessage(reporterId: string, reportedId: string, messageId: string): Promise<Message> {
    const message = isUuid(messageId) ? await this.dataSource.manager.findOneBy(Message, { id: messageId }) : null;
    if (!message || message.senderId !== reportedId) throw notFound('Message not found');
    const conversation = await this.conversations.byId(message.conversationId);
    if (
      !conversation ||
      !ConversationsService.isParticipant(conversation, reporterId) ||
      !ConversationsService.isParticipant(conversation, reportedId)
    ) {
      throw notFound('Message not found');
    }
    return message;
  }

  /** Serialises report counting and ban changes for one account (see the class comment). */
  private async lockAccount(tx: Tx, userId: string): Promise<void> {
    await tx.manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`moderation:${userId}`]);
  }

  /**
   * The reporter's sign-up time, and whether the reported account has ever sent it a
   * message request or a message (in the pair's conversation). Read in the report's
   * transaction, under lockAccount. (Requests are checked as well as messages so the answer
   * does not depend on a request's intro staying in the pair's conversation.)
   */
  private async reportFacts(tx: Tx, reporterId: string, reportedId: string): Promise<{ reporterCreatedAt: Date; contacted: boolean }> {
    const [row]: Array<{ created_at: Date; contacted: boolean }> = await tx.manager.query(
      `SELECT u.created_at,
              EXISTS (SELECT 1 FROM message_requests r WHERE r.sender_id = $2 AND r.recipient_id = $1)
              OR EXISTS (SELECT 1 FROM conversations c JOIN messages m ON m.conversation_id = c.id AND m.sender_id = $2
                          WHERE c.user_low_id = LEAST($1::uuid, $2::uuid) AND c.user_high_id = GREATEST($1::uuid, $2::uuid)) AS contacted
         FROM users u WHERE u.id = $1`,
      [reporterId, reportedId],
    );
    return { reporterCreatedAt: row.created_at, contacted: row.contacted };
  }

  /** Call under lockAccount. */
  private async banIfOverThreshold(tx: Tx, userId: string, now: Date): Promise<void> {
    const [ban]: Array<{ until: Date | null }> = await tx.manager.query(`SELECT until FROM messaging_bans WHERE user_id = $1`, [userId]);
    if (ban && (ban.until === null || ban.until > now)) return; // already banned: a moderator decides what next
    const windowStart = new Date(now.getTime() - REPORT_WINDOW_DAYS * DAY_MS);
    const since = ban?.until && ban.until > windowStart ? ban.until : windowStart;
    const [{ reporters }]: Array<{ reporters: string }> = await tx.manager.query(
      `SELECT count(DISTINCT reporter_id) AS reporters FROM reports
        WHERE reported_id = $1 AND created_at > $2 AND counts_toward_auto_ban`,
      [userId, since],
    );
    if (Number(reporters) >= this.settings.reportBanThreshold) {
      await this.upsertBan(tx.manager, userId, null, BanSource.REPORTS, null, now);
    }
  }

  private async upsertBan(
    manager: EntityManager,
    userId: string,
    until: Date | null,
    source: BanSource,
    createdById: string | null,
    now: Date,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO messaging_bans (user_id, until, source, created_by_id, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id) DO UPDATE
         SET until = EXCLUDED.until, source = EXCLUDED.source, created_by_id = EXCLUDED.created_by_id, created_at = EXCLUDED.created_at`,
      [userId, until, source, createdById, now],
    );
  }
}

function toView(report: Report, message: Message | null): ReportView {
  return {
    id: report.id,
    reason: report.reason,
    status: report.status,
    details: report.details,
    createdAt: report.createdAt,
    message,
    reporterId: report.reporterId,
    reportedId: report.reportedId,
    resolution: report.resolution,
    resolvedAt: report.resolvedAt,
    countsTowardAutoBan: report.countsTowardAutoBan,
  };
}

/** Optional free text: ≤ 1000 characters, no control characters but newline; blank is none. */
function checkDetails(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  if (hasControlCharacters(raw)) throw badInput('Details cannot contain control characters', 'details');
  const trimmed = raw.trim();
  if ([...trimmed].length > DETAILS_MAX_LENGTH) throw badInput(`Details must be at most ${DETAILS_MAX_LENGTH} characters`, 'details');
  return trimmed.length ? trimmed : null;
}

/** Cursors are opaque but client-supplied: check their values before they reach SQL. */
function checkCursor(values: ReadonlyArray<string | number>): { at: string; id: string } {
  const [at, id] = values;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || typeof id !== 'string' || !isUuid(id)) {
    throw badInput('Invalid cursor', 'after');
  }
  return { at, id };
}
