import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { User } from '../users/user.entity';
import { Message } from './message.entity';
import { SealedTextKind } from './message-extras.entity';

registerEnumType(SealedTextKind, {
  name: 'SealedTextKind',
  valuesConfig: {
    EDITED: { description: 'The text the message had before an edit.' },
    UNSENT: { description: 'The text the message had when its sender unsent it.' },
  },
});

@ObjectType({ description: 'One emoji on a message, with how many participants chose it.' })
export class ReactionSummary {
  @Field() emoji: string;
  @Field(() => Int) count: number;
  @Field({ description: 'Whether the viewer is one of them.' }) reactedByViewer: boolean;
}

@ObjectType({ description: 'A reaction was set, replaced or removed on a message of one of the viewer\'s conversations.' })
export class ReactionEvent {
  @Field({ description: 'Position in the viewer\'s event log: resume with events(after: cursor).' }) cursor: string;
  @Field(() => Message) message: Message;
  /** Resolved by ReactionEventResolver. */
  @Field(() => User) reactor?: User;
  reactorId: string;
  @Field(() => String, { nullable: true, description: 'The emoji set; null when the reaction was removed.' }) emoji: string | null;
}

@ObjectType({ description: 'Moderators only: a text a participant no longer sees (edited away or unsent), kept for SEALED_TEXT_RETENTION_DAYS.' })
export class SealedMessageText {
  @Field(() => ID) messageId: string;
  @Field(() => SealedTextKind) kind: SealedTextKind;
  @Field() text: string;
  @Field({ description: 'When it was sealed: the edit or the unsend.' }) sealedAt: Date;
}
