import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireViewer, type Context } from '../../graphql/context';
import { HiddenWordsSettings } from './hidden-words.types';
import { User } from './user.entity';

@Resolver(() => User)
export class HiddenWordsResolver {
  @Query(() => HiddenWordsSettings, { description: "The viewer's hidden words and the built-in offensive-terms option." })
  hiddenWords(@Ctx() ctx: Context) {
    return ctx.services.hiddenWords.settings(requireViewer(ctx).id);
  }

  @Mutation(() => HiddenWordsSettings, {
    description: 'Adds 1–100-character words or phrases (matched as whole words, ignoring case and accents). Entries already listed are kept; past the limit nothing is added (BAD_USER_INPUT).',
  })
  addHiddenWords(@Arg('words', () => [String]) words: string[], @Ctx() ctx: Context) {
    return ctx.services.hiddenWords.add(requireViewer(ctx).id, words);
  }

  @Mutation(() => HiddenWordsSettings, { description: 'Removes words or phrases, compared as they match ("CAFÉ" removes "cafe"); unknown ones are ignored.' })
  removeHiddenWords(@Arg('words', () => [String]) words: string[], @Ctx() ctx: Context) {
    return ctx.services.hiddenWords.remove(requireViewer(ctx).id, words);
  }

  @FieldResolver(() => Boolean, { nullable: true, description: "Hidden words' built-in offensive-terms option; null unless the viewer is this user." })
  hideOffensiveRequests(@Root() user: User, @Ctx() ctx: Context): boolean | null {
    return ctx.viewer?.id === user.id ? user.hideOffensiveRequests : null;
  }
}
