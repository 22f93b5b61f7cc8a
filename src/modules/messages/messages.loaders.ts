import DataLoader from 'dataloader';
import type { Message } from './message.entity';
import type { MessagesService } from './messages.service';

/** Per-request loaders; `messageById` also serves Conversation.lastMessage (by last_message_id). */
export function createMessageLoaders(messages: MessagesService, opts: { cache: boolean }) {
  return {
    messageById: new DataLoader<string, Message | null>(async (ids) => {
      const rows = await messages.byIds(ids);
      const byId = new Map(rows.map((m) => [m.id, m]));
      return ids.map((id) => byId.get(id) ?? null);
    }, opts),
  };
}
