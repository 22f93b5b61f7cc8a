import { randomUUID } from 'node:crypto';
import { codeOf, startTestApp, type TestApp, type TestUser } from '../support/app';
import { openConversation, writeSnapshot } from '../support/conversations';
import {
  AcceptMessageRequestDocument,
  BlockUserDocument,
  ConversationByIdDocument,
  DeleteConversationDocument,
  DeleteMessageRequestDocument,
  InboxDocument,
  MarkConversationSeenDocument,
  MessagesDocument,
  SendMessageDocument,
  SendMessageRequestDocument,
} from '../generated/graphql';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const send = (u: TestUser, conversationId: string, text: string) =>
  t.gql(SendMessageDocument, { input: { conversationId, text } }, u.token);

const inboxIds = async (u: TestUser) => (await t.ok(InboxDocument, { first: 100 }, u.token)).conversations.edges.map((e) => e.node.id);

async function request(from: TestUser, to: TestUser, text = 'hi, can we talk?') {
  const data = await t.ok(SendMessageRequestDocument, { input: { recipientId: to.id, text } }, from.token);
  return { requestId: data.sendMessageRequest.id, conversationId: data.sendMessageRequest.conversation.id };
}

describe('conversations (the inbox)', () => {
  it('refuses without a token', async () => {
    expect(codeOf(await t.gql(InboxDocument, { first: 5 }))).toBe('UNAUTHENTICATED');
  });

  it('lists open conversations by most recent activity with the other participant, last message and unread count', async () => {
    const me = await t.makeUser();
    const [p1, p2, p3] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const c1 = await openConversation(t, p1, me, 'from p1');
    const c2 = await openConversation(t, me, p2, 'from me');
    const c3 = await openConversation(t, p3, me, 'from p3');
    await send(p1, c1, 'p1 again');

    const inbox = await t.ok(InboxDocument, { first: 10 }, me.token);
    const nodes = inbox.conversations.edges.map((e) => e.node);
    expect(nodes.map((n) => n.id)).toEqual([c1, c3, c2]);
    expect(nodes[0]).toMatchObject({ isRequest: false, unreadCount: 2, otherParticipant: { id: p1.id }, lastMessage: { text: 'p1 again', sender: { id: p1.id } } });
    expect(nodes[1]).toMatchObject({ unreadCount: 1, otherParticipant: { id: p3.id } });
    expect(nodes[2]).toMatchObject({ unreadCount: 0, otherParticipant: { id: p2.id }, lastMessage: { text: 'from me', status: 'SENT' } });
    // Each side sees the other as otherParticipant.
    expect((await t.ok(InboxDocument, { first: 10 }, p2.token)).conversations.edges[0].node.otherParticipant.id).toBe(me.id);
  });

  it('pages with keyset cursors without skipping or repeating, also for equal activity times', async () => {
    const me = await t.makeUser();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await openConversation(t, await t.makeUser(), me));
    // Two conversations with the same activity instant: the id breaks the tie.
    await t.query(`UPDATE conversation_members SET activity_at = '2030-01-01T00:00:00.123456Z' WHERE conversation_id = ANY($1)`, [ids.slice(0, 2)]);
    const seen: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const page = await t.ok(InboxDocument, { first: 3, after }, me.token);
      seen.push(...page.conversations.edges.map((e) => e.node.id));
      if (!page.conversations.pageInfo.hasNextPage) break;
      after = page.conversations.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen.slice(0, 2).sort()).toEqual(ids.slice(0, 2).sort());
    expect(codeOf(await t.gql(InboxDocument, { first: 3, after: 'bm90IGEgY3Vyc29y' }, me.token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(InboxDocument, { first: 0 }, me.token))).toBe('BAD_USER_INPUT');
  });

  it('keeps a pending request out of both inboxes until it is accepted', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const { requestId, conversationId } = await request(a, b);
    expect(await inboxIds(a)).not.toContain(conversationId);
    expect(await inboxIds(b)).not.toContain(conversationId);
    await t.ok(AcceptMessageRequestDocument, { id: requestId }, b.token);
    expect(await inboxIds(a)).toContain(conversationId);
    expect(await inboxIds(b)).toContain(conversationId);
  });
});

describe('conversation(id)', () => {
  it('answers NOT_FOUND to anyone but a participant, exactly as for a missing id', async () => {
    const [a, b, outsider] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const c = await openConversation(t, a, b);
    const mine = await t.ok(ConversationByIdDocument, { id: c, last: 10 }, b.token);
    expect(mine.conversation).toMatchObject({ id: c, isRequest: false, otherParticipant: { id: a.id }, unreadCount: 1 });
    expect(mine.conversation.messages.edges.map((e) => e.node.text)).toEqual(['hello']);
    const answers = [
      await t.gql(ConversationByIdDocument, { id: c }, outsider.token),
      await t.gql(ConversationByIdDocument, { id: randomUUID() }, outsider.token),
      await t.gql(ConversationByIdDocument, { id: 'nope' }, outsider.token),
      await t.gql(MessagesDocument, { conversationId: c }, outsider.token),
    ];
    for (const res of answers) {
      expect(codeOf(res)).toBe('NOT_FOUND');
      expect(res.errors![0].message).toBe(answers[1].errors![0].message);
    }
  });

  it('a request is readable by its sender, and by the recipient only while it is pending and not deleted', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const { requestId, conversationId } = await request(a, b, 'intro');
    for (const u of [a, b]) {
      const view = await t.ok(ConversationByIdDocument, { id: conversationId, last: 5 }, u.token);
      expect(view.conversation.isRequest).toBe(true);
      expect(view.conversation.messages.edges.map((e) => e.node.text)).toEqual(['intro']);
    }
    await t.ok(DeleteMessageRequestDocument, { id: requestId }, b.token);
    expect(codeOf(await t.gql(ConversationByIdDocument, { id: conversationId }, b.token))).toBe('NOT_FOUND');
    expect(codeOf(await t.gql(MessagesDocument, { conversationId }, b.token))).toBe('NOT_FOUND');
    expect((await t.ok(ConversationByIdDocument, { id: conversationId }, a.token)).conversation.isRequest).toBe(true);
  });

  it('while a request is pending: the sender gets REQUEST_PENDING, and the recipient previewing it sends no seen receipt', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const { requestId, conversationId } = await request(a, b, 'intro');
    const before = await writeSnapshot(t, conversationId);
    const res = await send(a, conversationId, 'one more?');
    expect(codeOf(res)).toBe('REQUEST_PENDING');
    expect(codeOf(await send(b, conversationId, 'reply before accepting'))).toBe('REQUEST_PENDING');
    expect(await writeSnapshot(t, conversationId)).toEqual(before);

    const preview = await t.ok(MarkConversationSeenDocument, { conversationId }, b.token);
    expect(preview.markConversationSeen.unreadCount).toBe(0);
    const [{ n }] = await t.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE user_id = $1 AND type = 'MESSAGE_SEEN'`, [a.id]);
    expect(Number(n)).toBe(0);
    expect((await t.ok(MessagesDocument, { conversationId }, a.token)).messages.edges[0].node).toMatchObject({ status: 'SENT', seenAt: null });

    // Accepted: messaging opens both ways and the next mark sends the receipt.
    await t.ok(AcceptMessageRequestDocument, { id: requestId }, b.token);
    expect((await send(a, conversationId, 'thanks!')).errors).toBeUndefined();
    await t.ok(MarkConversationSeenDocument, { conversationId }, b.token);
    const statuses = (await t.ok(MessagesDocument, { conversationId }, a.token)).messages.edges.map((e) => e.node.status);
    expect(statuses).toEqual(['SEEN', 'SEEN']);
  });

  it('after a block, history stays readable to both', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const c = await openConversation(t, a, b, 'before the block');
    await t.ok(BlockUserDocument, { userId: b.id }, a.token);
    for (const u of [a, b]) {
      const view = await t.ok(ConversationByIdDocument, { id: c, last: 5 }, u.token);
      expect(view.conversation.messages.edges.map((e) => e.node.text)).toEqual(['before the block']);
    }
  });
});

describe('deleteConversation', () => {
  it('hides it from the viewer only; a new message brings it back with its history; it does not block', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const c = await openConversation(t, a, b, 'first');
    await send(b, c, 'second');
    expect((await t.ok(DeleteConversationDocument, { id: c }, a.token)).deleteConversation).toBe(true);
    expect(await inboxIds(a)).not.toContain(c);
    expect(await inboxIds(b)).toContain(c);
    // Still readable by id, and deleting again is harmless.
    expect((await t.ok(ConversationByIdDocument, { id: c }, a.token)).conversation.id).toBe(c);
    expect((await t.ok(DeleteConversationDocument, { id: c }, a.token)).deleteConversation).toBe(true);

    expect((await send(b, c, 'are you there?')).errors).toBeUndefined();
    expect(await inboxIds(a)).toContain(c);
    const texts = (await t.ok(MessagesDocument, { conversationId: c }, a.token)).messages.edges.map((e) => e.node.text);
    expect(texts).toEqual(['first', 'second', 'are you there?']);
    // The deleter can write too: nothing was blocked.
    expect((await send(a, c, 'yes')).errors).toBeUndefined();
  });

  it('the deleter\'s own message brings it back too', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const c = await openConversation(t, a, b);
    await t.ok(DeleteConversationDocument, { id: c }, a.token);
    await send(a, c, 'never mind');
    expect(await inboxIds(a)).toContain(c);
  });

  it('answers NOT_FOUND to a non-participant and writes nothing', async () => {
    const [a, b, outsider] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const c = await openConversation(t, a, b);
    const before = await writeSnapshot(t, c);
    expect(codeOf(await t.gql(DeleteConversationDocument, { id: c }, outsider.token))).toBe('NOT_FOUND');
    expect(await writeSnapshot(t, c)).toEqual(before);
  });
});
