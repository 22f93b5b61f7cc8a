import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: "The viewer's hidden words: requests that match go to hidden requests (no notification, no badge)." })
export class HiddenWordsSettings {
  @Field(() => [String], { description: 'The words and phrases as entered, newest first.' })
  words: string[];

  @Field(() => Int, { description: 'How many entries the list may hold.' })
  limit: number;

  @Field({ description: 'Requests with a common offensive term also go to hidden requests (set with updateMessagingSettings).' })
  hideOffensiveRequests: boolean;
}
