import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Mutation, Resolver, Root, Subscription, UseMiddleware } from 'type-graphql';
import { requireViewer, type Context } from '../../graphql/context';
import { notFound } from '../../graphql/errors';
import { onlyIdSelected } from '../../graphql/selection';
import type { UserEvent } from '../../graphql/pubsub';
import { SendRateLimit } from '../moderation/send-rate-limit.middleware';
import { EventType } from '../notifications/events.service';
import { EventLogEntry } from '../notifications/notifications.types';
import { User } from '../users/user.entity';
import { Message } from './message.entity';
import type { MessageActionPayload } from './message-actions.service';
import { ReactionEvent, ReactionSummary } from './message-actions.types';
import { MessageEvent } from './messages.types';

/** A changed message as a subscriber sees it now (a tombstone once unsent); never one hidden from them. */
async function currentMessage(ctx: Context, messageId: string): Promise<Message> {
  const message = await ctx.loaders.messageById.load(messageId);
  if (!message || message.hiddenFor === ctx.viewer?.id) throw notFound('Message not found');
  return message;
}

const liveOf = (type: EventType.MESSAGE_UNSENT | EventType.MESSAGE_EDITED | EventType.MESSAGE_REACTION) =>
  ({ args, context }: { args: { conversationId?: string | null }; context: unknown }) =>
    (context as Context).services.messageActions.live(requireViewer(context as Context).id, type, args.conversationId);

/** Unsend, edit, reactions and replies (issue 17): mutations, their live events, and Message's fields for them. */
@Resolver(() => Message)
export class MessageActionsResolver {
  @Mutation(() => Message, {
    description: 'Sender only, within UNSEND_WINDOW_HOURS: the message becomes a tombstone (empty text, unsentAt) for both participants; moderators keep its text for a while. Unsending the intro of a pending request withdraws the request. Idempotent.',
  })
  @UseMiddleware(SendRateLimit)
  unsendMessage(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.messageActions.unsend(requireViewer(ctx).id, id);
  }

  @Mutation(() => Message, { description: 'Sender only, within EDIT_WINDOW_MINUTES and at most MAX_EDITS times; the same text rules as sendMessage.' })
  @UseMiddleware(SendRateLimit)
  editMessage(@Arg('id', () => ID) id: string, @Arg('text') text: string, @Ctx() ctx: Context) {
    return ctx.services.messageActions.edit(requireViewer(ctx).id, id, text);
  }

  @Mutation(() => Message, { description: "Sets the viewer's one reaction to a message of an accepted conversation (replacing any other): a single emoji." })
  @UseMiddleware(SendRateLimit)
  reactToMessage(@Arg('messageId', () => ID) messageId: string, @Arg('emoji') emoji: string, @Ctx() ctx: Context) {
    return ctx.services.messageActions.react(requireViewer(ctx).id, messageId, emoji);
  }

  @Mutation(() => Message, { description: "Removes the viewer's reaction, if any." })
  @UseMiddleware(SendRateLimit)
  removeReaction(@Arg('messageId', () => ID) messageId: string, @Ctx() ctx: Context) {
    return ctx.services.messageActions.unreact(requireViewer(ctx).id, messageId);
  }

  @Subscription(() => MessageEvent, { description: 'A message of the viewer\'s conversations (or one of them) was unsent: it arrives as its tombstone.', subscribe: liveOf(EventType.MESSAGE_UNSENT) })
  async messageUnsent(@Root() event: UserEvent, @Arg('conversationId', () => ID, { nullable: true }) _c: string | null, @Ctx() ctx: Context): Promise<MessageEvent> {
    return { cursor: event.cursor, message: await currentMessage(ctx, (event.payload as unknown as MessageActionPayload).messageId) };
  }

  @Subscription(() => MessageEvent, { description: 'A message of the viewer\'s conversations (or one of them) was edited.', subscribe: liveOf(EventType.MESSAGE_EDITED) })
  async messageEdited(@Root() event: UserEvent, @Arg('conversationId', () => ID, { nullable: true }) _c: string | null, @Ctx() ctx: Context): Promise<MessageEvent> {
    return { cursor: event.cursor, message: await currentMessage(ctx, (event.payload as unknown as MessageActionPayload).messageId) };
  }

  @Subscription(() => ReactionEvent, { description: 'A reaction was set or removed on a message of the viewer\'s conversations (or one of them).', subscribe: liveOf(EventType.MESSAGE_REACTION) })
  async messageReaction(@Root() event: UserEvent, @Arg('conversationId', () => ID, { nullable: true }) _c: string | null, @Ctx() ctx: Context): Promise<ReactionEvent> {
    const p = event.payload as unknown as MessageActionPayload;
    return { cursor: event.cursor, message: await currentMessage(ctx, p.messageId), reactorId: p.actorId, emoji: p.emoji ?? null };
  }

  @FieldResolver(() => Boolean, { description: 'Unsent for everyone: a tombstone ("message unsent").' })
  unsent(@Root() message: Message): boolean {
    return message.unsentAt != null;
  }

  @FieldResolver(() => Message, { nullable: true, description: 'The message this one answers (its tombstone once unsent).' })
  async replyTo(@Root() message: Message, @Ctx() ctx: Context): Promise<Message | null> {
    if (!message.replyToId) return null;
    const target = await ctx.loaders.messageById.load(message.replyToId);
    // An intro hidden from the viewer never resurfaces through a reply to it.
    return target && target.hiddenFor !== ctx.viewer?.id ? target : null;
  }

  @FieldResolver(() => [ReactionSummary], { description: 'Most chosen first; one reaction per participant.' })
  reactions(@Root() message: Message, @Ctx() ctx: Context): Promise<ReactionSummary[]> | ReactionSummary[] {
    return message.unsentAt ? [] : ctx.loaders.reactionsByMessageId.load(message.id);
  }
}

@Resolver(() => ReactionEvent)
export class ReactionEventResolver {
  @FieldResolver(() => User)
  async reactor(@Root() event: ReactionEvent, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<User> {
    if (onlyIdSelected(info)) return Object.assign(new User(), { id: event.reactorId });
    const user = await ctx.loaders.userById.load(event.reactorId);
    if (!user) throw notFound('User not found');
    return user;
  }
}

@Resolver(() => EventLogEntry)
export class EventLogMessageResolver {
  @FieldResolver(() => Message, {
    nullable: true,
    description: 'The message the entry names, as it is now (a tombstone once unsent); null if the viewer may not see it.',
  })
  async message(@Root() entry: EventLogEntry, @Ctx() ctx: Context): Promise<Message | null> {
    if (!entry.messageId) return null;
    const message = await ctx.loaders.messageById.load(entry.messageId);
    return message && message.hiddenFor !== requireViewer(ctx).id ? message : null;
  }
}
