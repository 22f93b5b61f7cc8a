import { lockPair } from '../../src/db/pair-lock';
import { runInTransaction } from '../../src/db/transaction';
import type { TestApp, TestUser } from './app';

/**
 * An open (accepted) conversation between a and b whose first message is from a, built
 * through the services in-process: the messaging tests do not depend on the request flow.
 * Returns the conversation id.
 */
export async function openConversation(t: TestApp, a: TestUser, b: TestUser, intro = 'hello'): Promise<string> {
  const { conversations, messages } = t.app.services;
  return runInTransaction(t.app.dataSource, async (tx) => {
    const now = t.clock.now();
    await lockPair(tx, a.id, b.id);
    const id = await conversations.createForPair(tx, a.id, b.id, now);
    await messages.appendInTx(tx, { conversationId: id, senderId: a.id, text: intro, clientMessageId: null, now });
    await conversations.openInTx(tx, id, now);
    return id;
  });
}

/** What a refused operation must leave untouched: messages, events and the counters. */
export async function writeSnapshot(t: TestApp, conversationId: string) {
  const [row] = await t.query<{ messages: string; events: string; last_seq: string; members: string; seen: string }>(
    `SELECT (SELECT count(*) FROM messages) AS messages,
            (SELECT count(*) FROM events) AS events,
            (SELECT last_seq FROM conversations WHERE id = $1) AS last_seq,
            (SELECT string_agg(user_id || ':' || in_inbox || ':' || last_read_seq || ':' || activity_at, ',' ORDER BY user_id)
               FROM conversation_members WHERE conversation_id = $1) AS members,
            (SELECT count(*) FROM messages WHERE seen_at IS NOT NULL) AS seen`,
    [conversationId],
  );
  return row;
}
