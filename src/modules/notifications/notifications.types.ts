import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { SKIP } from '../../lib/async-iterable';
import type { Context } from '../../graphql/context';
import type { UserEvent } from '../../graphql/pubsub';
import { ConnectionType } from '../../graphql/pagination';
import { MessageRequestView, toView } from '../requests/requests.types';
import { EventType } from './events.service';
import { NotificationType } from './notification.entity';

registerEnumType(NotificationType, { name: 'NotificationType' });
registerEnumType(EventType, { name: 'EventType', description: 'Kinds of entries in the per-account event log.' });

@ObjectType()
export class InboxBadge {
  @Field(() => Int, { description: 'Pending, not hidden, requests in the Requests folder.' }) pendingRequestCount: number;
  @Field(() => Int, { description: 'Inbox conversations with unread messages.' }) unreadConversationCount: number;
  @Field(() => Int) unreadNotificationCount: number;
  @Field({ description: 'The red dot on the Messages tab.' }) showDot: boolean;
}

@ObjectType()
export class MessageRequestEvent {
  @Field({ description: 'Position in the viewer’s event log; pass to events(after:) to catch up.' }) cursor: string;
  @Field(() => MessageRequestView) request: MessageRequestView;
}

@ObjectType()
export class InboxBadgeEvent {
  @Field() cursor: string;
  @Field(() => InboxBadge, { description: 'The badge as it is now.' }) badge: InboxBadge;
}

@ObjectType('Notification')
export class NotificationView {
  @Field(() => ID) id: string;
  @Field(() => NotificationType) type: NotificationType;
  @Field() createdAt: Date;
  @Field() read: boolean;
  actorId: string;
  requestId: string | null;
  conversationId: string | null;
}

export const NotificationConnection = ConnectionType(NotificationView, 'Notification');

@ObjectType({ description: 'One entry of the viewer’s event log, as its subscription delivered it.' })
export class EventLogEntry {
  @Field() cursor: string;
  @Field(() => EventType) type: EventType;
  @Field(() => MessageRequestView, { nullable: true }) request: MessageRequestView | null;
  @Field(() => ID, { nullable: true }) conversationId: string | null;
  @Field(() => ID, { nullable: true }) messageId: string | null;
  @Field(() => ID, { nullable: true, description: 'MESSAGE_SEEN: the last message the reader has seen.' }) upToMessageId: string | null;
  @Field(() => ID, { nullable: true, description: 'MESSAGE_SEEN: who read.' }) readerId: string | null;
  @Field(() => Date, { nullable: true }) seenAt: Date | null;
  @Field(() => ID, { nullable: true, description: 'MESSAGE_UNSENT, MESSAGE_EDITED, MESSAGE_REACTION: who acted.' }) actorId: string | null;
  @Field(() => String, { nullable: true, description: 'MESSAGE_REACTION: the emoji set; null when a reaction was removed.' }) emoji: string | null;
}

/**
 * The viewer's live events of `types`, each turned into its payload by `toPayload`; an
 * event the viewer may no longer see (null from toPayload) is dropped.
 */
export function subscribeEvents<T>(ctx: Context, types: EventType[], toPayload: (event: UserEvent) => Promise<T | null>): AsyncIterable<T> {
  const viewerId = ctx.viewer!.id;
  return ctx.services.events.subscribe(viewerId, types, async (event) => (await toPayload(event).catch(() => null)) ?? SKIP);
}

/** Request events, re-checked at delivery by the rule events(after:) applies too (EventVisibility). */
export function subscribeVisible(ctx: Context, types: EventType[]): AsyncIterable<MessageRequestEvent> {
  const viewerId = ctx.viewer!.id;
  return subscribeEvents(ctx, types, async (event) => {
    const request = await ctx.services.requests.byIds([String(event.payload.requestId)]).then((r) => r[0]);
    if (!(await ctx.services.eventVisibility.allows(viewerId, event, request))) return null;
    return { cursor: event.cursor, request: toView(request, ctx.services.clock.now()) };
  });
}
