import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { requireViewer, type Context } from '../../graphql/context';
import { ConnectionArgs } from '../../graphql/pagination';
import { canSeeRequest } from '../requests/request-visibility';
import { MessageRequestView, toView } from '../requests/requests.types';
import { User } from '../users/user.entity';
import { EventType } from './events.service';
import type { Notification } from './notification.entity';
import {
  EventLogEntry,
  InboxBadge,
  InboxBadgeEvent,
  NotificationConnection,
  NotificationView,
  subscribeEvents,
} from './notifications.types';

const toNotificationView = (n: Notification): NotificationView => ({
  id: n.id,
  type: n.type,
  createdAt: n.createdAt,
  read: n.readAt !== null,
  actorId: n.actorId,
  requestId: n.requestId,
  conversationId: n.conversationId,
});

@Resolver(() => NotificationView)
export class NotificationsResolver {
  @Query(() => NotificationConnection, { description: 'Newest first.' })
  async notifications(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    const conn = await ctx.services.notifications.list(requireViewer(ctx).id, args);
    return { ...conn, edges: conn.edges.map((e) => ({ cursor: e.cursor, node: toNotificationView(e.node) })) };
  }

  @Mutation(() => Int, { description: 'Marks the given notifications (all when ids is omitted) read; returns how many changed.' })
  markNotificationsRead(@Arg('ids', () => [ID], { nullable: true }) ids: string[] | null, @Ctx() ctx: Context) {
    return ctx.services.notifications.markRead(requireViewer(ctx).id, ids);
  }

  @Query(() => InboxBadge)
  inboxBadge(@Ctx() ctx: Context) {
    return ctx.services.badge.badge(requireViewer(ctx).id);
  }

  @Query(() => [EventLogEntry], { description: 'What the viewer missed: its events after `after` (a cursor), oldest first.' })
  async events(
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 100 }) first: number,
    @Ctx() ctx: Context,
  ): Promise<EventLogEntry[]> {
    const viewerId = requireViewer(ctx).id;
    const events = await ctx.services.events.list(viewerId, after, first);
    const requestIds = events.map((e) => e.payload.requestId).filter((id): id is string => typeof id === 'string');
    const requests = new Map((await ctx.services.requests.byIds(requestIds)).map((r) => [r.id, r]));
    const now = ctx.services.clock.now();
    return events.map((e) => {
      const p = e.payload as Record<string, string | undefined>;
      const request = p.requestId ? requests.get(p.requestId) : undefined;
      return {
        cursor: e.cursor,
        type: e.type as EventType,
        request: request && canSeeRequest(request, viewerId, now) ? toView(request, now) : null,
        conversationId: p.conversationId ?? null,
        messageId: p.messageId ?? null,
        upToMessageId: p.upToMessageId ?? null,
        readerId: p.readerId ?? null,
        seenAt: p.seenAt ? new Date(p.seenAt) : null,
        actorId: p.actorId ?? null,
        emoji: p.emoji ?? null,
      };
    });
  }

  @FieldResolver(() => User)
  actor(@Root() n: NotificationView, @Ctx() ctx: Context) {
    return ctx.loaders.userById.load(n.actorId);
  }

  @FieldResolver(() => MessageRequestView, { nullable: true })
  async request(@Root() n: NotificationView, @Ctx() ctx: Context) {
    if (!n.requestId) return null;
    const row = await ctx.loaders.requestById.load(n.requestId);
    const now = ctx.services.clock.now();
    return row && canSeeRequest(row, requireViewer(ctx).id, now) ? toView(row, now) : null;
  }

  @Subscription(() => InboxBadgeEvent, {
    description: 'The badge, each time it changes.',
    subscribe: ({ context }) => {
      const ctx = context as Context;
      return subscribeEvents(ctx, [EventType.INBOX_BADGE_CHANGED], async (event) => ({ cursor: event.cursor, viewerId: ctx.viewer!.id }));
    },
  })
  inboxBadgeChanged(@Root() event: { cursor: string; viewerId: string }, @Ctx() ctx: Context): Promise<InboxBadgeEvent> {
    return ctx.services.badge.badge(event.viewerId).then((badge) => ({ cursor: event.cursor, badge }));
  }
}
