import { Block } from '../modules/relationships/block.entity';
import { Conversation } from '../modules/conversations/conversation.entity';
import { ConversationMember } from '../modules/conversations/conversation-member.entity';
import { Follow } from '../modules/relationships/follow.entity';
import { Message } from '../modules/messages/message.entity';
import { MessageReaction, MessageSealedText } from '../modules/messages/message-extras.entity';
import { MessageRequest } from '../modules/requests/message-request.entity';
import { MessagingBan } from '../modules/moderation/messaging-ban.entity';
import { Notification } from '../modules/notifications/notification.entity';
import { EventCounter, EventRecord } from '../modules/notifications/event.entity';
import { Report } from '../modules/moderation/report.entity';
import { HiddenWord } from '../modules/users/hidden-word.entity';
import { RevokedToken } from '../modules/users/revoked-token.entity';
import { User } from '../modules/users/user.entity';

/** Entity classes, listed (not globbed) so the compiled and the TS CLI agree. */
export const entities = [
  User,
  Follow,
  Block,
  Conversation,
  ConversationMember,
  Message,
  MessageRequest,
  Notification,
  EventRecord,
  EventCounter,
  Report,
  MessagingBan,
  HiddenWord,
  MessageSealedText,
  MessageReaction,
  RevokedToken,
];
