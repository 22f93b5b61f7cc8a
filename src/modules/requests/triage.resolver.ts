import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireViewer, type Context } from '../../graphql/context';
import { ConnectionArgs } from '../../graphql/pagination';
import { TextSpan } from '../../graphql/text-span';
import { linkSpans } from '../../lib/links';
import { accountAgeBucket } from './account-age';
import { MessageRequestConnection, MessageRequestView, toView } from './requests.types';
import { RequestContext, toAccountAgeBucket, toHiddenReason } from './triage.types';

/** Recently deleted requests, restore, and what a request tells its recipient about itself (SPEC §8). */
@Resolver(() => MessageRequestView)
export class RequestTriageResolver {
  @Query(() => MessageRequestConnection, {
    description: 'Recently deleted: the viewer’s deleted requests that may still be restored (until they would have expired), newest first.',
  })
  async deletedMessageRequests(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    const conn = await ctx.services.triage.deleted(requireViewer(ctx).id, args);
    const now = ctx.services.clock.now();
    return { ...conn, edges: conn.edges.map((e) => ({ cursor: e.cursor, node: toView(e.node, now) })) };
  }

  @Mutation(() => MessageRequestView, {
    description: 'Recipient only: puts a recently deleted request back in messageRequests or hiddenMessageRequests, as it was. The sender is not told.',
  })
  async restoreMessageRequest(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return toView(await ctx.services.triage.restore(requireViewer(ctx).id, id), ctx.services.clock.now());
  }

  @FieldResolver(() => [TextSpan], {
    description: 'Where `text` contains links (URLs, bare domains, e-mail and IP addresses). The server never turns them into links: show them inert.',
  })
  linkSpans(@Root() r: MessageRequestView): TextSpan[] {
    return linkSpans(r.text);
  }

  @FieldResolver(() => RequestContext, { nullable: true, description: '"Why am I seeing this": null unless the viewer is the recipient.' })
  async context(@Root() r: MessageRequestView, @Ctx() ctx: Context): Promise<RequestContext | null> {
    if (!ctx.viewer || ctx.viewer.id !== r.row.recipientId) return null;
    // Both loaders batch a whole page: the sender's row is the one `sender` loads anyway.
    const [sender, follows] = await Promise.all([ctx.loaders.userById.load(r.row.senderId), ctx.loaders.followContext.load(r.row.senderId)]);
    if (!sender) return null;
    return {
      senderAccountAge: toAccountAgeBucket(accountAgeBucket(sender.createdAt, ctx.services.clock.now(), ctx.services.config.requests.newAccountHours)),
      senderFollowsYou: follows.followsViewer,
      mutualFollowCount: follows.mutualFollowCount,
      hiddenReason: toHiddenReason(r.row.hiddenReason),
    };
  }
}
