import { startTestApp, type TestApp, type TestUser } from '../support/app';
import { openConversation } from '../support/conversations';
import { InboxDocument, MessagesDocument } from '../generated/graphql';
import { runInTransaction } from '../../src/db/transaction';

/**
 * N+1 guard: the number of SQL statements an operation sends must not grow with the page
 * size. Every per-row field (otherParticipant, lastMessage and its sender, unreadCount)
 * goes through a per-request DataLoader, so a page costs the same few statements.
 */
let t: TestApp;
let viewer: TestUser;
let conversationIds: string[];

beforeAll(async () => {
  t = await startTestApp();
  viewer = await t.makeUser();
  conversationIds = [];
  for (let i = 0; i < 55; i++) {
    const other = await t.makeUser();
    const c = await openConversation(t, other, viewer, `hello ${i}`);
    // Every other conversation ends with the viewer's reply: last-message senders vary.
    if (i % 2) {
      await runInTransaction(t.app.dataSource, (tx) =>
        t.app.services.messages.appendInTx(tx, { conversationId: c, senderId: viewer.id, text: 'reply', clientMessageId: null, now: t.clock.now() }),
      );
    }
    conversationIds.push(c);
  }
});
afterAll(() => t.close());

async function statementsFor<T>(run: () => Promise<T>): Promise<{ count: number; result: T }> {
  t.sql.reset();
  const result = await run();
  return { count: t.sql.count, result };
}

describe('statement counts do not grow with page size', () => {
  it('conversations(first: 10) and conversations(first: 50) with otherParticipant, lastMessage { sender }, unreadCount and muted', async () => {
    const small = await statementsFor(() => t.ok(InboxDocument, { first: 10 }, viewer.token));
    const large = await statementsFor(() => t.ok(InboxDocument, { first: 50 }, viewer.token));
    expect(small.result.conversations.edges).toHaveLength(10);
    expect(large.result.conversations.edges).toHaveLength(50);
    // The fields really were resolved (not an empty page in disguise).
    for (const e of large.result.conversations.edges) {
      expect(e.node.otherParticipant.id).not.toBe(viewer.id);
      expect(e.node.lastMessage!.sender.id).toBeTruthy();
      expect(e.node.unreadCount).toBe(1);
      expect(e.node.muted).toBe(false);
    }
    expect(large.count).toBe(small.count);
    expect(large.count).toBeLessThanOrEqual(4);
  });

  it('the next page costs the same as the first', async () => {
    const first = await t.ok(InboxDocument, { first: 10 }, viewer.token);
    const next = await statementsFor(() => t.ok(InboxDocument, { first: 10, after: first.conversations.pageInfo.endCursor }, viewer.token));
    const again = await statementsFor(() => t.ok(InboxDocument, { first: 10 }, viewer.token));
    expect(next.count).toBe(again.count);
  });

  it('conversations with each row\'s latest messages: one statement for all the rows\' pages', async () => {
    const doc = `query($first: Int) { conversations(first: $first) { edges { node { id messages(last: 2) { edges { node { id text } } pageInfo { hasPreviousPage } } } } } }`;
    type Page = { conversations: { edges: Array<{ node: { id: string; messages: { edges: Array<{ node: { id: string; text: string } }>; pageInfo: { hasPreviousPage: boolean } } } }> } };
    const small = await statementsFor(() => t.ok<Page, unknown>(doc, { first: 5 }, viewer.token));
    const large = await statementsFor(() => t.ok<Page, unknown>(doc, { first: 30 }, viewer.token));
    expect(large.result.conversations.edges).toHaveLength(30);
    expect(large.count).toBe(small.count);
    // Each row holds its own conversation's page, as the conversation's own history shows it.
    for (const { node } of large.result.conversations.edges) {
      const own = await t.ok(MessagesDocument, { conversationId: node.id, last: 2 }, viewer.token);
      expect(node.messages.edges.map((e) => e.node)).toEqual(own.messages.edges.map((e) => ({ id: e.node.id, text: e.node.text })));
      expect(node.messages.pageInfo.hasPreviousPage).toBe(own.messages.pageInfo.hasPreviousPage);
    }
  });

  it('messages(last: 10) and messages(last: 100) with sender', async () => {
    const c = conversationIds[0];
    const [{ other_user_id: other }] = await t.query<{ other_user_id: string }>(
      'SELECT other_user_id FROM conversation_members WHERE conversation_id = $1 AND user_id = $2',
      [c, viewer.id],
    );
    for (let i = 0; i < 120; i++) {
      await runInTransaction(t.app.dataSource, (tx) =>
        t.app.services.messages.appendInTx(tx, { conversationId: c, senderId: i % 3 ? viewer.id : other, text: `m${i}`, clientMessageId: null, now: t.clock.now() }),
      );
    }
    const small = await statementsFor(() => t.ok(MessagesDocument, { conversationId: c, last: 10 }, viewer.token));
    const large = await statementsFor(() => t.ok(MessagesDocument, { conversationId: c, last: 100 }, viewer.token));
    expect(large.result.messages.edges).toHaveLength(100);
    expect(large.count).toBe(small.count);
    expect(large.count).toBeLessThanOrEqual(4);
  });
});
