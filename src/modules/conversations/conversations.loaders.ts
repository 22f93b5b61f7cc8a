import DataLoader from 'dataloader';
import type { Conversation } from './conversation.entity';
import type { ConversationsService } from './conversations.service';

/** Per-request loaders; `unreadCount` is the viewer's, for a whole page in one grouped statement. */
export function createConversationLoaders(conversations: ConversationsService, viewerId: string | null, opts: { cache: boolean }) {
  return {
    conversationById: new DataLoader<string, Conversation | null>(async (ids) => {
      const rows = await conversations.byIds(ids);
      const byId = new Map(rows.map((c) => [c.id, c]));
      return ids.map((id) => byId.get(id) ?? null);
    }, opts),
    unreadCount: new DataLoader<string, number>(async (ids) => {
      if (!viewerId) return ids.map(() => 0);
      const counts = await conversations.unreadCounts(viewerId, ids);
      return ids.map((id) => counts.get(id) ?? 0);
    }, opts),
  };
}
