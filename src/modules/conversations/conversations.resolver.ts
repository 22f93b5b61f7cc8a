import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireViewer, type Context } from '../../graphql/context';
import { notFound } from '../../graphql/errors';
import { ConnectionArgs, ConnectionType } from '../../graphql/pagination';
import { Message } from '../messages/message.entity';
import { MessageConnection } from '../messages/messages.types';
import { User } from '../users/user.entity';
import { Conversation, ConversationStatus } from './conversation.entity';
import { ConversationsService } from './conversations.service';

export const ConversationConnection = ConnectionType(Conversation);

@Resolver(() => Conversation)
export class ConversationsResolver {
  @Query(() => ConversationConnection, { description: 'The inbox: accepted conversations, most recent activity first.' })
  conversations(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return ctx.services.conversations.inbox(requireViewer(ctx).id, args);
  }

  @Query(() => Conversation, { description: 'NOT_FOUND unless the viewer may read it.' })
  conversation(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.conversations.requireReadable(requireViewer(ctx).id, id);
  }

  @Mutation(() => Boolean, { description: "Hides it from the viewer's inbox only; the next message brings it back with its history. Does not block." })
  deleteConversation(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.conversations.hide(requireViewer(ctx).id, id);
  }

  @Mutation(() => Conversation, {
    description:
      'Mutes it for the viewer: messages still arrive and count in its unreadCount, but no notification, no badge count, no red dot. ' +
      "Also on a request's conversation (MessageRequest.conversation.id): mutes that person's requests.",
  })
  muteConversation(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.conversations.setMuted(requireViewer(ctx).id, id, true);
  }

  @Mutation(() => Conversation, { description: 'Undoes muteConversation: its unread messages count in the badge again.' })
  unmuteConversation(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.conversations.setMuted(requireViewer(ctx).id, id, false);
  }

  @FieldResolver(() => User)
  async otherParticipant(@Root() conversation: Conversation, @Ctx() ctx: Context): Promise<User> {
    const viewerId = requireViewer(ctx).id;
    // The viewer is loaded in the same batch: a last message's sender is always one of the
    // two participants, so `lastMessage { sender }` then needs no statement of its own.
    const [user] = await ctx.loaders.userById.loadMany([ConversationsService.otherParticipant(conversation, viewerId), viewerId]);
    if (!user || user instanceof Error) throw notFound('User not found');
    return user;
  }

  @FieldResolver(() => Message, { nullable: true })
  lastMessage(@Root() conversation: Conversation, @Ctx() ctx: Context): Promise<Message | null> | null {
    return conversation.lastMessageId ? ctx.loaders.messageById.load(conversation.lastMessageId) : null;
  }

  @FieldResolver(() => Int, { description: "Messages from the other participant past the viewer's read pointer." })
  unreadCount(@Root() conversation: Conversation, @Ctx() ctx: Context): Promise<number> {
    requireViewer(ctx);
    return ctx.loaders.membership.load(conversation.id).then((m) => m.unreadCount);
  }

  @FieldResolver(() => Boolean, { description: 'Whether the viewer muted it (muteConversation).' })
  async muted(@Root() conversation: Conversation, @Ctx() ctx: Context): Promise<boolean> {
    requireViewer(ctx);
    return conversation.viewerMuted ?? (await ctx.loaders.membership.load(conversation.id)).muted;
  }

  @FieldResolver(() => Boolean, { description: 'Still a message request (not accepted yet).' })
  isRequest(@Root() conversation: Conversation): boolean {
    return conversation.status === ConversationStatus.REQUEST;
  }

  /** The root came from a path that already checked the viewer may read it. */
  @FieldResolver(() => MessageConnection)
  messages(@Root() conversation: Conversation, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    if (!ConversationsService.isParticipant(conversation, requireViewer(ctx).id)) throw notFound('Conversation not found');
    return ctx.loaders.messagePage.load({ conversationId: conversation.id, args });
  }
}
