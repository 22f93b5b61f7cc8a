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
    // Only what live delivery would send now: the same rule (EventVisibility).
    const visible = await ctx.services.eventVisibility.catchUp(requireViewer(ctx).id, after, first, (ids) => ctx.services.requests.byIds(ids));
    const now = ctx.services.clock.now();
    return visible.map(({ event: e, request }) => {
      const p = e.payload as Record<string, string | undefined>;
      return {
        cursor: e.cursor,
        type: e.type as EventType,
        request: request ? toView(request, now) : null,
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
    description:
      'The badge when it changes: computed once per account for all its subscriptions, and at most one update per account per ' +
      'INBOX_BADGE_COALESCE_MS (the newest cursor then answers the changes before it). A muted conversation changes nothing here.',
    subscribe: ({ context }) => (context as Context).services.badgeFeed.subscribe(requireViewer(context as Context).id),
  })
  inboxBadgeChanged(@Root() update: InboxBadgeEvent): InboxBadgeEvent {
    return update;
  }
}
