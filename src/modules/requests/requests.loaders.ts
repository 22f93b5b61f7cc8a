import DataLoader from 'dataloader';
import type { MessageRequest } from './message-request.entity';
import type { RequestsService } from './requests.service';
import type { Conversation } from '../conversations/conversation.entity';
import type { ConversationsService } from '../conversations/conversations.service';

export function createRequestLoaders(requests: RequestsService, conversations: ConversationsService, opts: { cache: boolean }) {
  return {
    requestById: new DataLoader<string, MessageRequest | null>(async (ids) => {
      const rows = await requests.byIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }, opts),
    requestConversationById: new DataLoader<string, Conversation | null>(async (ids) => {
      const rows = await conversations.byIds(ids);
      const byId = new Map(rows.map((c) => [c.id, c]));
      return ids.map((id) => byId.get(id) ?? null);
    }, opts),
  };
}
