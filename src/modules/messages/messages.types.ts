import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType } from '../../graphql/pagination';
import { plainFields } from '../../graphql/plain-fields';
import { User } from '../users/user.entity';
import { Message } from './message.entity';

export enum MessageStatus {
  SENT = 'SENT',
  SEEN = 'SEEN',
}
registerEnumType(MessageStatus, {
  name: 'MessageStatus',
  valuesConfig: {
    SENT: { description: "Not yet passed by the recipient's read pointer (shown blue)." },
    SEEN: { description: "The recipient's read pointer passed it (shown green); see seenAt." },
  },
});

@InputType()
export class SendMessageInput {
  @Field(() => ID) conversationId: string;
  @Field({ description: '1–4000 characters after trimming; no control characters but newline. Stored as sent.' })
  text: string;
  @Field(() => String, { nullable: true, description: 'Up to 64 characters; repeating it returns the same message and writes nothing.' })
  clientMessageId?: string | null;
  @Field(() => ID, { nullable: true, description: 'A message of the same conversation this one answers; any other id is NOT_FOUND.' })
  replyToId?: string | null;
}

export const MessageConnection = ConnectionType(Message);

@ObjectType({ ...plainFields, description: 'A new message in one of the viewer\'s conversations (also the viewer\'s own, for other devices).' })
export class MessageEvent {
  @Field({ description: 'Position in the viewer\'s event log: resume with events(after: cursor).' })
  cursor: string;
  @Field(() => Message) message: Message;
}

@ObjectType({ description: "The other participant's read pointer moved: the viewer's messages up to upToMessageId are seen." })
export class SeenEvent {
  @Field() cursor: string;
  @Field(() => ID) conversationId: string;
  /** Resolved by SeenEventResolver: `reader { id }` needs no read. */
  @Field(() => User) reader?: User;
  readerId: string;
  @Field(() => ID) upToMessageId: string;
  @Field() seenAt: Date;
}
