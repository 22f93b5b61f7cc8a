import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { requireViewer, type Context } from '../../graphql/context';
import { Message } from '../messages/message.entity';
import { SealedMessageText } from '../messages/message-actions.types';
import { Role, User } from '../users/user.entity';
import { ReportRateLimit } from '../../graphql/account-rate-limit.middleware';
import { CONTEXT_RADIUS } from './moderation.service';
import { ReportsArgs, ReportUserInput } from './moderation.inputs';
import { ReportConnection, ReportView } from './moderation.types';
import { ReportAction } from './report.entity';

@Resolver(() => ReportView)
export class ModerationResolver {
  @Mutation(() => ReportView, { description: 'Sends the account to the moderation queue. It is never told who reported it.' })
  @UseMiddleware(ReportRateLimit)
  reportUser(@Arg('input', () => ReportUserInput) input: ReportUserInput, @Ctx() ctx: Context) {
    return ctx.services.moderation.reportUser(requireViewer(ctx).id, input);
  }

  @Query(() => ReportConnection, { description: 'Moderators only: the report queue, oldest first.' })
  reports(@Args(() => ReportsArgs) args: ReportsArgs, @Ctx() ctx: Context) {
    return ctx.services.moderation.reports(requireViewer(ctx).id, args);
  }

  @Mutation(() => ReportView, { description: 'Moderators only. BAN bans the reported account from messaging until lifted.' })
  resolveReport(@Arg('id', () => ID) id: string, @Arg('action', () => ReportAction) action: ReportAction, @Ctx() ctx: Context) {
    return ctx.services.moderation.resolveReport(requireViewer(ctx).id, id, action);
  }

  @Mutation(() => User, { description: 'Moderators only. Without `until` the ban lasts until lifted; `until` must be in the future.' })
  banFromMessaging(
    @Arg('userId', () => ID) userId: string,
    @Arg('until', () => Date, { nullable: true }) until: Date | null | undefined,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.moderation.banFromMessaging(requireViewer(ctx).id, userId, until ?? null);
  }

  @Mutation(() => User, { description: 'Moderators only. Idempotent.' })
  liftMessagingBan(@Arg('userId', () => ID) userId: string, @Ctx() ctx: Context) {
    return ctx.services.moderation.liftMessagingBan(requireViewer(ctx).id, userId);
  }

  @Mutation(() => User, { description: 'Moderators only: marks or unmarks a public figure.' })
  setVerified(@Arg('userId', () => ID) userId: string, @Arg('verified', () => Boolean) verified: boolean, @Ctx() ctx: Context) {
    return ctx.services.moderation.setVerified(requireViewer(ctx).id, userId, verified);
  }

  @FieldResolver(() => User, { nullable: true })
  reportedUser(@Root() report: ReportView, @Ctx() ctx: Context) {
    return ctx.loaders.userById.load(report.reportedId);
  }

  @FieldResolver(() => User, { nullable: true, description: 'Moderators only; null for everyone else.' })
  async reporter(@Root() report: ReportView, @Ctx() ctx: Context) {
    return (await isModerator(ctx)) ? ctx.loaders.userById.load(report.reporterId) : null;
  }

  @FieldResolver(() => [Message], {
    description: `Moderators only (empty for everyone else): the reported message and up to ${CONTEXT_RADIUS} messages before and after it.`,
    complexity: ({ childComplexity }) => 1 + (2 * CONTEXT_RADIUS + 1) * childComplexity,
  })
  async context(@Root() report: ReportView, @Ctx() ctx: Context): Promise<Message[]> {
    if (!(await isModerator(ctx))) return [];
    if (report.context) return report.context;
    return (await ctx.services.moderation.contextOf([report])).get(report.id) ?? [];
  }

  @FieldResolver(() => [SealedMessageText], {
    description:
      'Moderators only (empty for everyone else): for the reported message and its context, the texts their senders unsent or edited away, oldest first, while kept (SEALED_TEXT_RETENTION_DAYS; longer while the report is open).',
    complexity: ({ childComplexity }) => 1 + (2 * CONTEXT_RADIUS + 1) * childComplexity,
  })
  async sealedTexts(@Root() report: ReportView, @Ctx() ctx: Context): Promise<SealedMessageText[]> {
    if (!(await isModerator(ctx))) return [];
    const context = report.context ?? (await ctx.services.moderation.contextOf([report])).get(report.id) ?? [];
    const perMessage = await Promise.all(context.map((m) => ctx.loaders.sealedTextsByMessageId.load(m.id)));
    return perMessage.flat().sort((a, b) => a.sealedAt.getTime() - b.sealedAt.getTime());
  }

  @FieldResolver(() => ReportAction, { nullable: true, description: 'Moderators only; null for everyone else.' })
  async resolution(@Root() report: ReportView, @Ctx() ctx: Context) {
    return (await isModerator(ctx)) ? report.resolution : null;
  }

  @FieldResolver(() => Date, { nullable: true, description: 'Moderators only; null for everyone else.' })
  async resolvedAt(@Root() report: ReportView, @Ctx() ctx: Context) {
    return (await isModerator(ctx)) ? report.resolvedAt : null;
  }

  @FieldResolver(() => Boolean, {
    nullable: true,
    description:
      'Moderators only; null for everyone else. Whether this report counts toward the automatic messaging ban: ' +
      'only when the reported account had sent the reporter a request or a message, and the reporter was not a new account, when it was filed.',
  })
  async countsTowardAutoBan(@Root() report: ReportView, @Ctx() ctx: Context) {
    return (await isModerator(ctx)) ? report.countsTowardAutoBan : null;
  }
}

/** Through the per-request loader, so a page of reports checks the role once. */
async function isModerator(ctx: Context): Promise<boolean> {
  if (!ctx.viewer) return false;
  const viewer = await ctx.loaders.userById.load(ctx.viewer.id);
  return viewer?.role === Role.MODERATOR;
}
