import { Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireSession, requireViewer, type Context } from '../../graphql/context';
import { ConnectionArgs, ConnectionType } from '../../graphql/pagination';
import { DirectMessagePolicy, User } from './user.entity';
import { AuthPayload, ChangePasswordInput, LogInInput, MessagingSettingsInput, SignUpInput, UpdateProfileInput } from './users.inputs';

export const UserConnection = ConnectionType(User);

@Resolver(() => User)
export class UsersResolver {
  @Mutation(() => AuthPayload, { description: 'Create an account (13 or older) and get a bearer token.' })
  async signUp(@Arg('input', () => SignUpInput) input: SignUpInput, @Ctx() ctx: Context) {
    return asViewer(ctx, await ctx.services.users.signUp(input, ctx.clientIp));
  }

  @Mutation(() => AuthPayload, { description: 'Same error for an unknown username and a wrong password.' })
  async logIn(@Arg('input', () => LogInInput) input: LogInInput, @Ctx() ctx: Context) {
    return asViewer(ctx, await ctx.services.users.logIn(input, ctx.clientIp));
  }

  @Mutation(() => Boolean, {
    description: "Ends the session of the token this request carries: it stops working everywhere and its sockets close (4403). True again for a token already logged out.",
  })
  async logOut(@Ctx() ctx: Context) {
    await ctx.services.sessions.logOut(requireSession(ctx));
    return true;
  }

  @Mutation(() => AuthPayload, {
    description: "Ends every session of the account (its other tokens stop working, their sockets close) and answers a new token. A wrong currentPassword is BAD_USER_INPUT and counts as a failed log-in.",
  })
  async changePassword(@Arg('input', () => ChangePasswordInput) input: ChangePasswordInput, @Ctx() ctx: Context) {
    return ctx.services.users.changePassword(requireViewer(ctx).id, input, ctx.clientIp);
  }

  @Query(() => User)
  me(@Ctx() ctx: Context) {
    return ctx.services.users.requireById(requireViewer(ctx).id);
  }

  @Query(() => User, { nullable: true })
  user(@Arg('username', () => String) username: string, @Ctx() ctx: Context) {
    requireViewer(ctx);
    return ctx.services.users.byUsername(username);
  }

  @Query(() => UserConnection, { description: 'Prefix match on username or display name.' })
  searchUsers(@Arg('query', () => String) query: string, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    requireViewer(ctx);
    return ctx.services.users.search(query, args);
  }

  @Mutation(() => User)
  updateProfile(@Arg('input', () => UpdateProfileInput) input: UpdateProfileInput, @Ctx() ctx: Context) {
    return ctx.services.users.updateProfile(requireViewer(ctx).id, input);
  }

  @Mutation(() => User)
  updateMessagingSettings(@Arg('input', () => MessagingSettingsInput) input: MessagingSettingsInput, @Ctx() ctx: Context) {
    return ctx.services.users.updateMessagingSettings(requireViewer(ctx).id, input);
  }

  @FieldResolver(() => String, { nullable: true, description: 'YYYY-MM-DD; null unless the viewer is this user.' })
  birthDate(@Root() user: User, @Ctx() ctx: Context): string | null {
    return ctx.viewer?.id === user.id ? user.birthDate : null;
  }

  @FieldResolver(() => DirectMessagePolicy, { nullable: true, description: 'Null unless the viewer is this user.' })
  directMessagePolicy(@Root() user: User, @Ctx() ctx: Context): DirectMessagePolicy | null {
    return ctx.viewer?.id === user.id ? user.directMessagePolicy : null;
  }

  @FieldResolver(() => Boolean, { nullable: true, description: 'Whether the account sends and sees SEEN receipts. Null unless the viewer is this user.' })
  readReceipts(@Root() user: User, @Ctx() ctx: Context): boolean | null {
    return ctx.viewer?.id === user.id ? user.readReceipts : null;
  }
}

/** The payload of sign-up and log-in is read by the account itself (its birthDate, policy). */
function asViewer<T extends { user: User }>(ctx: Context, payload: T): T {
  ctx.viewer = { id: payload.user.id };
  return payload;
}
