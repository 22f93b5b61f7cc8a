import DataLoader from 'dataloader';
import type { Conversation } from './conversation.entity';
import type { ConversationsService, MemberState } from './conversations.service';

const NOT_A_MEMBER: MemberState = { unreadCount: 0, muted: false };

/**
 * Per-request loaders. `conversationById` reads the viewer's mute with each conversation;
 * `membership` is the viewer's unreadCount and mute, for a whole page in one grouped statement.
 */
export function createConversationLoaders(conversations: ConversationsService, viewerId: string | null, opts: { cache: boolean }) {
  return {
    conversationById: new DataLoader<string, Conversation | null>(async (ids) => {
      const rows = await conversations.byIds(ids, viewerId);
      const byId = new Map(rows.map((c) => [c.id, c]));
      return ids.map((id) => byId.get(id) ?? null);
    }, opts),
    membership: new DataLoader<string, MemberState>(async (ids) => {
      if (!viewerId) return ids.map(() => NOT_A_MEMBER);
      const states = await conversations.memberStates(viewerId, ids);
      return ids.map((id) => states.get(id) ?? NOT_A_MEMBER);
    }, opts),
  };
}
