import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { requireViewer, type Context } from '../../graphql/context';
import { notFound } from '../../graphql/errors';
import { onlyIdSelected } from '../../graphql/selection';
import { ConnectionArgs } from '../../graphql/pagination';
import type { UserEvent } from '../../graphql/pubsub';
import { Conversation } from '../conversations/conversation.entity';
import { EventType } from '../notifications/events.service';
import { User } from '../users/user.entity';
import { Message } from './message.entity';
import { visibleSeenAt } from './message-rules';
import type { MessageSeenPayload } from './messages.service';
import { MessageConnection, MessageEvent, MessageStatus, SeenEvent, SendMessageInput } from './messages.types';

@Resolver(() => Message)
export class MessagesResolver {
  @Query(() => MessageConnection, { description: 'A conversation\'s messages in their one total order; without first/last, the newest 20.' })
  messages(@Arg('conversationId', () => ID) conversationId: string, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return ctx.services.messages.history(requireViewer(ctx).id, conversationId, args);
  }

  @Mutation(() => Message, { description: 'Idempotent by clientMessageId. Only in an accepted conversation.' })
  sendMessage(@Arg('input', () => SendMessageInput) input: SendMessageInput, @Ctx() ctx: Context) {
    // Rate limited with the other sends (SendRateLimit's budget), counted by the batcher.
    return ctx.services.sendBatcher.send(requireViewer(ctx).id, input);
  }

  @Mutation(() => Conversation, {
    description: 'Moves the read pointer forward (never back) to upToMessageId, default the latest message.',
  })
  markConversationSeen(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('upToMessageId', () => ID, { nullable: true }) upToMessageId: string | null,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.messages.markSeen(requireViewer(ctx).id, conversationId, upToMessageId);
  }

  @Subscription(() => MessageEvent, {
    description: 'New messages in the viewer\'s conversations (or one of them), the viewer\'s own included.',
    subscribe: ({ args, context }) =>
      (context as Context).services.messages.live(requireViewer(context as Context).id, EventType.MESSAGE_RECEIVED, args.conversationId),
  })
  messageReceived(
    @Root() event: UserEvent,
    @Arg('conversationId', () => ID, { nullable: true }) _conversationId: string | null,
    @Ctx() ctx: Context,
  ): MessageEvent | Promise<MessageEvent> {
    // Nearly always the message as its send posted it, at hand: the delivery then
    // completes without awaiting anything (see existingUser).
    const found = ctx.services.messages.forDelivery(event, (id) => ctx.loaders.messageById.load(id));
    return found instanceof Promise ? found.then((message) => messageEvent(event, message)) : messageEvent(event, found);
  }

  @Subscription(() => SeenEvent, {
    description: 'The other participant saw the viewer\'s messages (open conversations only).',
    subscribe: ({ args, context }) =>
      (context as Context).services.messages.live(requireViewer(context as Context).id, EventType.MESSAGE_SEEN, args.conversationId),
  })
  messageSeen(@Root() event: UserEvent, @Arg('conversationId', () => ID, { nullable: true }) _conversationId: string | null): SeenEvent {
    const p = event.payload as unknown as MessageSeenPayload;
    return { cursor: event.cursor, conversationId: p.conversationId, readerId: p.readerId, upToMessageId: p.upToMessageId, seenAt: new Date(p.seenAt) };
  }

  @FieldResolver(() => User)
  sender(@Root() message: Message, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): User | Promise<User> {
    // Accounts are never deleted, so a message's sender exists.
    return existingUser(ctx, info, message.senderId);
  }

  @FieldResolver(() => MessageStatus, {
    description: "SEEN once the recipient's read pointer passed it, while both have read receipts on; SENT to a sender with them off.",
  })
  status(@Root() message: Message, @Ctx() ctx: Context): MessageStatus | Promise<MessageStatus> {
    const seenAt = seenAtFor(ctx, message);
    return seenAt instanceof Promise ? seenAt.then(statusOf) : statusOf(seenAt);
  }

  @FieldResolver(() => Date, { nullable: true, description: 'When it became SEEN; null whenever status is SENT.' })
  seenAt(@Root() message: Message, @Ctx() ctx: Context): Date | null | Promise<Date | null> {
    return seenAtFor(ctx, message);
  }

  @FieldResolver(() => String, { nullable: true, description: "The sender's idempotency key; null for anyone but the sender." })
  clientMessageId(@Root() message: Message, @Ctx() ctx: Context): string | null {
    return ctx.viewer?.id === message.senderId ? message.clientMessageId : null;
  }
}

@Resolver(() => SeenEvent)
export class SeenEventResolver {
  @FieldResolver(() => User)
  reader(@Root() event: SeenEvent, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): User | Promise<User> {
    // The reader is the conversation's other participant, an account that exists.
    return existingUser(ctx, info, event.readerId);
  }
}

/**
 * The message's seen_at as the viewer may see it (visibleSeenAt). The viewer's setting is
 * read only for its own seen messages, through the loader that also serves `sender`: a
 * page of history or an inbox asks it in the batch it already makes.
 */
function seenAtFor(ctx: Context, message: Message): Date | null | Promise<Date | null> {
  if (!message.seenAt || !ctx.viewer || ctx.viewer.id !== message.senderId) return message.seenAt;
  return ctx.loaders.userById.load(ctx.viewer.id).then((viewer) => visibleSeenAt(message, viewer));
}

const statusOf = (seenAt: Date | null): MessageStatus => (seenAt ? MessageStatus.SEEN : MessageStatus.SENT);

function messageEvent(event: UserEvent, message: Message | null): MessageEvent {
  if (!message) throw notFound('Message not found');
  return { cursor: event.cursor, message };
}

/**
 * An account known to exist: when the client asks only its `id`, nothing is read (a chat
 * client's `sender { id }`), and the answer is a plain value, not a promise. The fields of
 * a send's answer and of a live delivery are then all plain values, so graphql-js
 * completes each object at once instead of gathering its fields with Promise.all: less
 * garbage per message on the hottest path (docs/performance.md).
 */
function existingUser(ctx: Context, info: GraphQLResolveInfo, id: string): User | Promise<User> {
  if (onlyIdSelected(info)) return Object.assign(new User(), { id });
  return ctx.loaders.userById.load(id).then((user) => {
    if (!user) throw notFound('User not found');
    return user;
  });
}
