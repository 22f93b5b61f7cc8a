import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { requireViewer, type Context } from '../../graphql/context';
import { ConnectionArgs, type Connection } from '../../graphql/pagination';
import { FollowRateLimit } from '../../graphql/account-rate-limit.middleware';
import { User } from '../users/user.entity';
import { UserConnection } from '../users/users.resolver';

@Resolver(() => User)
export class RelationshipsResolver {
  @Mutation(() => User, { description: 'Idempotent.' })
  @UseMiddleware(FollowRateLimit)
  follow(@Arg('userId', () => ID) userId: string, @Ctx() ctx: Context) {
    return ctx.services.relationships.follow(requireViewer(ctx).id, userId);
  }

  @Mutation(() => User, { description: 'Idempotent.' })
  @UseMiddleware(FollowRateLimit)
  unfollow(@Arg('userId', () => ID) userId: string, @Ctx() ctx: Context) {
    return ctx.services.relationships.unfollow(requireViewer(ctx).id, userId);
  }

  @Mutation(() => User, { description: 'History stays readable; no requests or messages either way; the viewer stops following this user.' })
  blockUser(@Arg('userId', () => ID) userId: string, @Ctx() ctx: Context) {
    return ctx.services.relationships.block(requireViewer(ctx).id, userId);
  }

  @Mutation(() => User, { description: 'Restores nothing but the ability to message.' })
  unblockUser(@Arg('userId', () => ID) userId: string, @Ctx() ctx: Context) {
    return ctx.services.relationships.unblock(requireViewer(ctx).id, userId);
  }

  @Query(() => UserConnection)
  async blockedUsers(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return withUsers(await ctx.services.relationships.blockedUsers(requireViewer(ctx).id, args), ctx);
  }

  @FieldResolver(() => UserConnection)
  async followers(@Root() user: User, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return withUsers(await ctx.services.relationships.followers(user.id, requireViewer(ctx).id, args), ctx);
  }

  @FieldResolver(() => UserConnection)
  async following(@Root() user: User, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return withUsers(await ctx.services.relationships.following(user.id, requireViewer(ctx).id, args), ctx);
  }

  @FieldResolver(() => Int)
  async followerCount(@Root() user: User, @Ctx() ctx: Context) {
    return (await ctx.loaders.followCounts.load(user.id)).followers;
  }

  @FieldResolver(() => Int)
  async followingCount(@Root() user: User, @Ctx() ctx: Context) {
    return (await ctx.loaders.followCounts.load(user.id)).following;
  }

  @FieldResolver(() => Boolean, { description: 'The viewer follows this user.' })
  async isFollowing(@Root() user: User, @Ctx() ctx: Context) {
    // The viewer's own follow, also one this user cannot see (follow-visibility.ts).
    return (await ctx.loaders.relationship.load(user.id))?.aFollowsBAsSeenByA ?? false;
  }

  @FieldResolver(() => Boolean, { description: 'This user follows the viewer.' })
  async followsYou(@Root() user: User, @Ctx() ctx: Context) {
    return (await ctx.loaders.relationship.load(user.id))?.bFollowsA ?? false;
  }

  @FieldResolver(() => Boolean, { description: 'The viewer has blocked this user.' })
  async isBlocked(@Root() user: User, @Ctx() ctx: Context) {
    return (await ctx.loaders.relationship.load(user.id))?.aBlocksB ?? false;
  }
}

async function withUsers(conn: Connection<string>, ctx: Context): Promise<Connection<User>> {
  const users = await ctx.loaders.userById.loadMany(conn.edges.map((e) => e.node));
  const edges = conn.edges.flatMap((e, i) => {
    const node = users[i];
    return node && !(node instanceof Error) ? [{ cursor: e.cursor, node }] : [];
  });
  return { ...conn, edges };
}
