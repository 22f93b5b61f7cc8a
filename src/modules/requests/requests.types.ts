import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType } from '../../graphql/pagination';
import { StoredRequestStatus, type MessageRequest as MessageRequestRow } from './message-request.entity';

/**
 * As the viewer sees it. The sender never sees a delete: a request the recipient deleted
 * stays PENDING for the sender until it expires, exactly like an ignored one.
 */
export enum MessageRequestStatus {
  PENDING = 'PENDING',
  ACCEPTED = 'ACCEPTED',
  EXPIRED = 'EXPIRED',
  WITHDRAWN = 'WITHDRAWN',
}
registerEnumType(MessageRequestStatus, { name: 'MessageRequestStatus' });

export enum MessageButtonStateEnum {
  MESSAGE = 'MESSAGE',
  SEND_REQUEST = 'SEND_REQUEST',
  REQUEST_PENDING = 'REQUEST_PENDING',
  UNAVAILABLE = 'UNAVAILABLE',
}
registerEnumType(MessageButtonStateEnum, { name: 'MessageButtonState' });

/** The row plus what the resolver needs; fields are resolved per viewer. */
@ObjectType('MessageRequest')
export class MessageRequestView {
  row: MessageRequestRow;

  @Field(() => ID) id: string;
  @Field(() => MessageRequestStatus) status: MessageRequestStatus;
  @Field({ description: 'The intro message text.' }) text: string;
  @Field() createdAt: Date;
  @Field({ description: 'When the request ages out if neither accepted nor deleted.' }) expiresAt: Date;
  @Field(() => Date, { nullable: true }) acceptedAt: Date | null;
}

export function toView(row: MessageRequestRow, now: Date): MessageRequestView {
  let status: MessageRequestStatus;
  switch (row.status) {
    case StoredRequestStatus.ACCEPTED:
      status = MessageRequestStatus.ACCEPTED;
      break;
    case StoredRequestStatus.WITHDRAWN:
      status = MessageRequestStatus.WITHDRAWN;
      break;
    case StoredRequestStatus.EXPIRED:
      status = MessageRequestStatus.EXPIRED;
      break;
    default:
      status = row.expiresAt.getTime() <= now.getTime() ? MessageRequestStatus.EXPIRED : MessageRequestStatus.PENDING;
  }
  return {
    row,
    id: row.id,
    status,
    text: row.text,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    acceptedAt: row.acceptedAt,
  };
}

export const MessageRequestConnection = ConnectionType(MessageRequestView, 'MessageRequest', true);

@InputType()
export class SendMessageRequestInput {
  @Field(() => ID) recipientId: string;
  @Field({ description: '1–1000 characters after trimming; no control characters except newline.' }) text: string;
  @Field(() => String, { nullable: true, description: 'Up to 64 characters; repeating it returns the same request.' })
  clientMessageId?: string | null;
}

@ObjectType()
export class MessageButton {
  @Field(() => MessageButtonStateEnum) state: MessageButtonStateEnum;
  @Field(() => String, { nullable: true, description: 'The error code a send would get, when not SEND_REQUEST/MESSAGE.' })
  reason: string | null;
  @Field(() => String, { nullable: true, description: 'Text a client can show under a greyed-out button.' })
  explanation: string | null;
}

@ObjectType()
export class RequestQuota {
  @Field(() => Int) limit: number;
  @Field(() => Int) used: number;
  @Field(() => Int) remaining: number;
  @Field(() => Date, { nullable: true, description: 'When the oldest request in the window leaves it (null if none).' })
  resetsAt: Date | null;
}

@ObjectType()
export class BulkResult {
  @Field(() => [ID]) succeeded: string[];
  @Field(() => [ID], { description: 'Ids that are not the viewer’s pending requests (as if absent).' }) notFound: string[];
}
