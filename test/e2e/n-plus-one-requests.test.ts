import { startTestApp, type Doc, type TestApp } from '../support/app';
import {
  DeletedMessageRequestsDocument,
  DeleteMessageRequestsDocument,
  FollowDocument,
  MessageRequestsDocument,
  NotificationsDocument,
  SendMessageRequestDocument,
  SentMessageRequestsDocument,
  TriageHiddenMessageRequestsDocument,
  TriageMessageRequestsDocument,
} from '../generated/graphql';

let t: TestApp;
let recipient: Awaited<ReturnType<TestApp['makeUser']>>;
let sender: Awaited<ReturnType<TestApp['makeUser']>>;
let hiddenRecipient: Awaited<ReturnType<TestApp['makeUser']>>;
let deletingRecipient: Awaited<ReturnType<TestApp['makeUser']>>;

beforeAll(async () => {
  t = await startTestApp({ MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000', DAILY_MESSAGE_REQUEST_LIMIT: '100' });
  recipient = await t.makeUser();
  sender = await t.makeUser();
  const senders = await Promise.all(Array.from({ length: 60 }, () => t.makeUser()));
  for (const s of senders) await t.ok(SendMessageRequestDocument, { input: { recipientId: recipient.id, text: `hi from ${s.username}` } }, s.token);
  for (let i = 0; i < 60; i++) await t.ok(SendMessageRequestDocument, { input: { recipientId: senders[i].id, text: 'hello' } }, sender.token);
  // Hidden requests (a link), and requests their recipient deletes, from the same senders.
  [hiddenRecipient, deletingRecipient] = [await t.makeUser(), await t.makeUser()];
  for (const s of senders) await t.ok(SendMessageRequestDocument, { input: { recipientId: hiddenRecipient.id, text: `see spam.de/${s.username}` } }, s.token);
  const toDelete: string[] = [];
  for (const s of senders) {
    const sent = await t.ok(SendMessageRequestDocument, { input: { recipientId: deletingRecipient.id, text: 'delete me' } }, s.token);
    toDelete.push(sent.sendMessageRequest.id);
  }
  await t.ok(DeleteMessageRequestsDocument, { ids: toDelete }, deletingRecipient.token);
  // Follows for "why am I seeing this": senders following their recipients, and mutual follows.
  for (const s of senders.slice(0, 20)) {
    for (const r of [recipient, hiddenRecipient, deletingRecipient]) await t.ok(FollowDocument, { userId: r.id }, s.token);
  }
  for (const r of [recipient, hiddenRecipient, deletingRecipient]) await t.ok(FollowDocument, { userId: senders[0].id }, r.token);
});
afterAll(() => t.close());

/**
 * SQL statements the server sent while answering one page, after checking the page is
 * full (an empty page in disguise would cost the same at any size).
 */
async function statements<TData, TVars extends { first: number }>(doc: Doc<TData, TVars>, vars: TVars, token: string): Promise<number> {
  t.sql.reset();
  const res = await t.gql(doc, vars, token);
  const count = t.sql.count;
  expect(res.errors).toBeUndefined();
  const connection = Object.values(res.data as Record<string, { edges: unknown[] }>)[0];
  expect(connection.edges).toHaveLength(vars.first);
  return count;
}

describe('statements per operation do not grow with page size', () => {
  it('messageRequests (sender preview, conversation, muted)', async () => {
    const ten = await statements(MessageRequestsDocument, { first: 10 }, recipient.token);
    const fifty = await statements(MessageRequestsDocument, { first: 50 }, recipient.token);
    expect(fifty).toBe(ten);
    expect(ten).toBeLessThanOrEqual(4);
  });

  it('messageRequests, hiddenMessageRequests and deletedMessageRequests with context and linkSpans', async () => {
    const counts = [
      [await statements(TriageMessageRequestsDocument, { first: 10 }, recipient.token), await statements(TriageMessageRequestsDocument, { first: 50 }, recipient.token)],
      [
        await statements(TriageHiddenMessageRequestsDocument, { first: 10 }, hiddenRecipient.token),
        await statements(TriageHiddenMessageRequestsDocument, { first: 50 }, hiddenRecipient.token),
      ],
      [
        await statements(DeletedMessageRequestsDocument, { first: 10 }, deletingRecipient.token),
        await statements(DeletedMessageRequestsDocument, { first: 50 }, deletingRecipient.token),
      ],
    ];
    for (const [ten, fifty] of counts) {
      expect(fifty).toBe(ten);
      expect(ten).toBeLessThanOrEqual(4);
    }
  });

  it('sentMessageRequests', async () => {
    const ten = await statements(SentMessageRequestsDocument, { first: 10 }, sender.token);
    const fifty = await statements(SentMessageRequestsDocument, { first: 50 }, sender.token);
    expect(fifty).toBe(ten);
  });

  it('notifications (actor, request)', async () => {
    const ten = await statements(NotificationsDocument, { first: 10 }, recipient.token);
    const fifty = await statements(NotificationsDocument, { first: 50 }, recipient.token);
    expect(fifty).toBe(ten);
  });
});
