import { startTestApp, type TestApp } from '../support/app';
import { openConversation } from '../support/conversations';
import { until } from '../support/until';
import { SendMessageRequestDocument } from '../generated/graphql';

/**
 * Statement budgets of the two busiest writes. Every statement is a round trip, most of
 * them made while the pair's lock is held, so these counts are what a chat's throughput
 * is made of (docs/performance.md): a change that adds one should be a decision, not an
 * accident. Counted by TypeORM's logger: BEGIN and COMMIT included, the rate limiter's
 * own statement not (sendMessage's batch counts its attempts in a statement it makes anyway).
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function counted<T>(run: () => Promise<T>): Promise<{ count: number; statements: string[]; result: T }> {
  t.sql.reset();
  const result = await run();
  return { count: t.sql.count, statements: [...t.sql.statements], result };
}

// What a chat client asks for: the sender's id, which the message already holds.
const SEND = `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id text status sender { id } } }`;
const ON_MESSAGE = `subscription { messageReceived { cursor message { id text createdAt sender { id } } } }`;

it('sendMessage, delivered live to both participants, costs 4 statements in all, none of them for the deliveries', async () => {
  const a = await t.makeUser();
  const b = await t.makeUser();
  const c = await openConversation(t, a, b);
  const toB = await t.subscribe(ON_MESSAGE, {}, b.token);
  const toA = await t.subscribe(ON_MESSAGE, {}, a.token);

  const sent = await counted(async () => {
    const res = await t.ok<{ sendMessage: { id: string; sender: { id: string } } }, unknown>(
      SEND,
      { input: { conversationId: c, text: 'counted', clientMessageId: 'k1' } },
      a.token,
    );
    await until('both participants hear of it', () => toA.events.length === 1 && toB.events.length === 1);
    return res;
  });
  const message = { id: sent.result.sendMessage.id, text: 'counted', sender: { id: a.id } };
  expect(sent.result.sendMessage.sender.id).toBe(a.id);
  expect(toB.events[0]).toMatchObject({ messageReceived: { message } });
  expect(toA.events[0]).toMatchObject({ messageReceived: { message } });
  // The send's batch (send-batch.ts): BEGIN, the pair's lock with the attempt counted
  // against the rate limit, one statement for the rules' facts with the append and its
  // events, COMMIT. Delivery reads nothing: the event carries the message, whose block
  // check the send made (and `sender { id }` is the id it holds).
  expect(sent.count).toBe(4);
  await Promise.all([toA.close(), toB.close()]);
});

it('sendMessageRequest to a new pair costs 10 statements, and 1 more for the sender it returns', async () => {
  const a = await t.makeUser();
  const b = await t.makeUser();
  const sent = await counted(() => t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hello there', clientMessageId: 'r1' } }, a.token));
  expect(sent.result.sendMessageRequest).toMatchObject({ status: 'PENDING', sender: { id: a.id }, recipient: { id: b.id } });
  // BEGIN, the sender's row lock, pair lock, the rules' facts, the new conversation with
  // its members, the intro message, the request, its notification, the events, COMMIT.
  // Then the sender's row; `conversation { id }` is answered from the request.
  expect(sent.count).toBe(11);
});

it('markConversationSeen, with its receipt delivered to the peer, costs 8 statements in all', async () => {
  const a = await t.makeUser();
  const b = await t.makeUser();
  const c = await openConversation(t, a, b);
  const toA = await t.subscribe(`subscription { messageSeen { conversationId upToMessageId reader { id } } }`, {}, a.token);
  await t.ok(`query { me { id } }`, {}, b.token); // b's token is known from here on, as a's is
  const marked = await counted(async () => {
    const res = await t.ok<{ markConversationSeen: { unreadCount: number } }, unknown>(
      `mutation Mark($id: ID!) { markConversationSeen(conversationId: $id) { unreadCount } }`,
      { id: c },
      b.token,
    );
    await until('the peer hears of it', () => toA.events.length === 1);
    return res;
  });
  expect(marked.result.markConversationSeen.unreadCount).toBe(0);
  expect(toA.events[0]).toMatchObject({ messageSeen: { conversationId: c, reader: { id: b.id } } });
  // BEGIN, the conversation with its pair's lock, the blocks between the two, the target
  // with the pointer and seen_at moved, the events, COMMIT; then the unread count it
  // returns; and the block re-check before the peer's delivery (`reader { id }` reads nothing).
  expect(marked.count).toBe(8);
  await toA.close();
});
