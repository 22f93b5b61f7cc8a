import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root, Subscription, UseMiddleware } from 'type-graphql';
import { requireViewer, type Context } from '../../graphql/context';
import { AppError } from '../../graphql/errors';
import { ConnectionArgs, type Connection } from '../../graphql/pagination';
import { onlyIdSelected } from '../../graphql/selection';
import { Conversation } from '../conversations/conversation.entity';
import { EventType } from '../notifications/events.service';
import { MessageRequestEvent, subscribeVisible } from '../notifications/notifications.types';
import { User } from '../users/user.entity';
import { SendRateLimit } from '../moderation/send-rate-limit.middleware';
import { BulkRateLimit } from './bulk-rate-limit.middleware';
import type { MessageRequest } from './message-request.entity';
import { messageButtonFor } from './eligibility';
import {
  BulkResult,
  MessageButton,
  MessageButtonStateEnum,
  MessageRequestConnection,
  MessageRequestView,
  RequestQuota,
  SendMessageRequestInput,
  toView,
} from './requests.types';

function view(ctx: Context, row: MessageRequest): MessageRequestView {
  return toView(row, ctx.services.clock.now());
}

function views(ctx: Context, conn: Connection<MessageRequest> & { totalCount: number }) {
  return { ...conn, edges: conn.edges.map((e) => ({ cursor: e.cursor, node: view(ctx, e.node) })) };
}

@Resolver(() => MessageRequestView)
export class RequestsResolver {
  @Mutation(() => MessageRequestView, { description: 'SPEC §2: every rule in order; idempotent by clientMessageId.' })
  @UseMiddleware(SendRateLimit)
  async sendMessageRequest(@Arg('input', () => SendMessageRequestInput) input: SendMessageRequestInput, @Ctx() ctx: Context) {
    if (!ctx.viewer) throw new AppError('UNAUTHENTICATED', 'Sign in to send messages');
    return view(ctx, await ctx.services.requestSend.send(ctx.viewer.id, input));
  }

  @Mutation(() => Conversation, { description: 'Recipient only; accepting again returns the same conversation.' })
  async acceptMessageRequest(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    const conversationId = await ctx.services.requests.accept(requireViewer(ctx).id, id);
    return ctx.services.conversations.byId(conversationId);
  }

  @Mutation(() => BulkResult, { description: 'Up to 100 ids; ids that are not yours answer in notFound.' })
  @UseMiddleware(BulkRateLimit)
  acceptMessageRequests(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: Context) {
    return ctx.services.requests.acceptMany(requireViewer(ctx).id, ids);
  }

  @Mutation(() => Boolean, { description: 'Recipient only. The sender is not told. With block, also blocks the sender.' })
  deleteMessageRequest(
    @Arg('id', () => ID) id: string,
    @Arg('block', () => Boolean, { nullable: true }) block: boolean | null,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.requests.delete(requireViewer(ctx).id, id, block ?? false);
  }

  @Mutation(() => BulkResult)
  @UseMiddleware(BulkRateLimit)
  deleteMessageRequests(
    @Arg('ids', () => [ID]) ids: string[],
    @Arg('block', () => Boolean, { nullable: true }) block: boolean | null,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.requests.deleteMany(requireViewer(ctx).id, ids, block ?? false);
  }

  @Mutation(() => MessageRequestView, { description: 'Sender only, while pending.' })
  async withdrawMessageRequest(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return view(ctx, await ctx.services.requests.withdraw(requireViewer(ctx).id, id));
  }

  @Query(() => MessageRequestConnection, { description: 'The Requests folder: pending requests to the viewer, newest first.' })
  async messageRequests(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return views(ctx, await ctx.services.requests.folder(requireViewer(ctx).id, false, args));
  }

  @Query(() => MessageRequestConnection, { description: 'Filtered requests (new accounts, links): no notification, no dot.' })
  async hiddenMessageRequests(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return views(ctx, await ctx.services.requests.folder(requireViewer(ctx).id, true, args));
  }

  @Query(() => MessageRequestConnection, { description: 'The viewer’s own requests: PENDING, ACCEPTED, EXPIRED or WITHDRAWN.' })
  async sentMessageRequests(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return views(ctx, await ctx.services.requests.sent(requireViewer(ctx).id, args));
  }

  @Query(() => MessageRequestView)
  async messageRequest(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return view(ctx, await ctx.services.requests.visibleTo(requireViewer(ctx).id, id));
  }

  @Query(() => RequestQuota)
  requestQuota(@Ctx() ctx: Context) {
    return ctx.services.requestSend.quota(requireViewer(ctx).id);
  }

  @FieldResolver(() => User)
  sender(@Root() r: MessageRequestView, @Ctx() ctx: Context) {
    return ctx.loaders.userById.load(r.row.senderId);
  }

  @FieldResolver(() => User)
  recipient(@Root() r: MessageRequestView, @Ctx() ctx: Context) {
    return ctx.loaders.userById.load(r.row.recipientId);
  }

  @FieldResolver(() => Conversation)
  conversation(@Root() r: MessageRequestView, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    // A list's `conversation { id }` costs no statement: the request holds the id.
    if (onlyIdSelected(info)) return Object.assign(new Conversation(), { id: r.row.conversationId });
    return ctx.loaders.conversationById.load(r.row.conversationId);
  }

  @FieldResolver(() => Boolean, { description: "Whether the viewer muted this request's conversation (muteConversation on conversation.id)." })
  async muted(@Root() r: MessageRequestView, @Ctx() ctx: Context): Promise<boolean> {
    // Folder pages read it with the page (recipient-page.ts); elsewhere the same read as
    // `conversation`: selecting both costs one statement.
    if (r.row.recipientMuted !== undefined && r.row.recipientId === ctx.viewer?.id) return r.row.recipientMuted;
    const conversation = await ctx.loaders.conversationById.load(r.row.conversationId);
    return conversation?.viewerMuted ?? false;
  }

  @Subscription(() => MessageRequestEvent, {
    description: 'Requests sent to the viewer (not hidden ones).',
    subscribe: ({ context }) => subscribeVisible(context as Context, [EventType.MESSAGE_REQUEST_RECEIVED]),
  })
  messageRequestReceived(@Root() event: MessageRequestEvent) {
    return event;
  }

  @Subscription(() => MessageRequestEvent, {
    description: 'The viewer’s requests being accepted.',
    subscribe: ({ context }) => subscribeVisible(context as Context, [EventType.MESSAGE_REQUEST_ACCEPTED]),
  })
  messageRequestAccepted(@Root() event: MessageRequestEvent) {
    return event;
  }
}

@Resolver(() => User)
export class MessageButtonResolver {
  @FieldResolver(() => MessageButton, { description: 'What the Message button on this profile does for the viewer, and why.' })
  async messageButton(@Root() user: User, @Ctx() ctx: Context): Promise<MessageButton> {
    const { result, openConversationId } = await ctx.loaders.eligibility.load(user.id);
    const button = messageButtonFor(result, openConversationId);
    return { ...button, state: MessageButtonStateEnum[button.state] };
  }
}
