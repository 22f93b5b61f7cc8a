import DataLoader from 'dataloader';
import type { Connection, ConnectionArgs } from '../../graphql/pagination';
import type { Message } from './message.entity';
import type { MessagesService } from './messages.service';

interface PageKey {
  conversationId: string;
  args: ConnectionArgs;
}

const argsKey = ({ first, after, last, before }: ConnectionArgs) => JSON.stringify([first ?? null, after ?? null, last ?? null, before ?? null]);
const pageKey = (k: PageKey) => `${k.conversationId}|${argsKey(k.args)}`;

/**
 * Per-request loaders; `messageById` also serves Conversation.lastMessage (by
 * last_message_id), and `messagePage` serves Conversation.messages: one statement per
 * distinct page arguments however many conversations ask (in practice, one per page).
 */
export function createMessageLoaders(messages: MessagesService, viewerId: string | null, opts: { cache: boolean }) {
  return {
    messageById: new DataLoader<string, Message | null>(async (ids) => {
      const rows = await messages.byIds(ids);
      const byId = new Map(rows.map((m) => [m.id, m]));
      return ids.map((id) => byId.get(id) ?? null);
    }, opts),
    messagePage: new DataLoader<PageKey, Connection<Message>, string>(
      async (keys) => {
        const batches = new Map<string, { args: ConnectionArgs; ids: string[] }>();
        for (const { conversationId, args } of keys) {
          const key = argsKey(args);
          const batch = batches.get(key) ?? { args, ids: [] };
          batch.ids.push(conversationId);
          batches.set(key, batch);
        }
        const pages = new Map<string, Connection<Message> | Error>();
        for (const { args, ids } of batches.values()) {
          // Bad page arguments fail every field that passed them, each with the same error.
          // Only a participant asks (Conversation.messages resolves on a readable conversation).
          const answer = viewerId ? await messages.pages(viewerId, ids, args).catch((err: Error) => err) : new Error('Sign in to read messages');
          ids.forEach((conversationId, i) => pages.set(pageKey({ conversationId, args }), answer instanceof Error ? answer : answer[i]));
        }
        return keys.map((k) => pages.get(pageKey(k))!);
      },
      { ...opts, cacheKeyFn: pageKey },
    ),
  };
}
