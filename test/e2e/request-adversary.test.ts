import { startTestApp, codeOf, birthDateForAge, type TestApp, type TestUser } from '../support/app';
import { openConversation } from '../support/conversations';
import {
  BlockUserDocument,
  ConversationByIdDocument,
  DeleteConversationDocument,
  DeleteMessageRequestDocument,
  EventsDocument,
  InboxBadgeDocument,
  MessageButtonDocument,
  MessageRequestByIdDocument,
  MessageRequestsDocument,
  HiddenMessageRequestsDocument,
  NotificationsDocument,
  OnInboxBadgeChangedDocument,
  OnMessageRequestAcceptedDocument,
  OnMessageRequestReceivedDocument,
  SendMessageDocument,
  SendMessageRequestDocument,
  SentMessageRequestsDocument,
  UpdateMessagingSettingsDocument,
  WithdrawMessageRequestDocument,
  DeletedMessageRequestsDocument,
  RestoreMessageRequestDocument,
} from '../generated/graphql';

/**
 * The request flow tried as an adversary would (issue 14, SPEC §8): the sender who wants to
 * know whether it was deleted, and the one who wants back into a folder it was deleted from.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ MESSAGE_REQUEST_TTL_DAYS: '30', MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000' });
});
afterAll(() => t.close());
afterEach(() => t.clock.reset());

const send = (from: TestUser, to: { id: string }, text = 'hi there', clientMessageId?: string) =>
  t.gql(SendMessageRequestDocument, { input: { recipientId: to.id, text, clientMessageId } }, from.token);

const sendOk = async (from: TestUser, to: { id: string }, text = 'hi there') => (await t.ok(SendMessageRequestDocument, { input: { recipientId: to.id, text } }, from.token)).sendMessageRequest;

/** Everything the sender can learn about its requests and its own inbox. */
async function senderView(a: TestUser) {
  const sent = (await t.ok(SentMessageRequestsDocument, { first: 10 }, a.token)).sentMessageRequests;
  const folder = (await t.ok(MessageRequestsDocument, {}, a.token)).messageRequests;
  const badge = (await t.ok(InboxBadgeDocument, {}, a.token)).inboxBadge;
  const events = (await t.ok(EventsDocument, {}, a.token)).events;
  return {
    sent: sent.edges.map((e) => e.node.status),
    folder: folder.totalCount,
    badge,
    events: events.map((e) => e.type),
  };
}

/** Everything the recipient is shown about requests. */
async function recipientView(b: TestUser) {
  const folder = (await t.ok(MessageRequestsDocument, {}, b.token)).messageRequests;
  const hidden = (await t.ok(HiddenMessageRequestsDocument, {}, b.token)).hiddenMessageRequests;
  const badge = (await t.ok(InboxBadgeDocument, {}, b.token)).inboxBadge;
  const notifications = (await t.ok(NotificationsDocument, {}, b.token)).notifications.edges.length;
  const events = (await t.ok(EventsDocument, {}, b.token)).events.length;
  return { folder: folder.totalCount, texts: folder.edges.map((e) => e.node.text), hidden: hidden.totalCount, badge, notifications, events };
}

describe('a delete is indistinguishable from an ignore when the recipient writes back (14.1)', () => {
  async function scenario(deleteFirst: boolean) {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const mine = await sendOk(a, b, 'hello B');
    if (deleteFirst) await t.ok(DeleteMessageRequestDocument, { id: mine.id }, b.token);
    const accepted = await t.subscribe(OnMessageRequestAcceptedDocument, {}, a.token);
    const answer = await sendOk(b, a, 'hi A, sorry for the wait');
    // B's send accepted A's request: the two meet in one conversation.
    expect(answer).toMatchObject({ id: mine.id, status: 'ACCEPTED' });
    expect((await accepted.next()).messageRequestAccepted.request).toEqual({ id: mine.id, status: 'ACCEPTED' });
    await accepted.close();
    const view = await senderView(a);
    // Never PENDING inside an open conversation, and no request from B in A's folder.
    expect(view.sent).toEqual(['ACCEPTED']);
    expect(view.folder).toBe(0);
    // B reads the conversation it opened, A's intro included (B chose to talk).
    const convo = (await t.ok(ConversationByIdDocument, { id: mine.conversation.id, last: 10 }, b.token)).conversation!;
    expect(convo.messages.edges.map((e) => e.node.text)).toEqual(['hello B', 'hi A, sorry for the wait']);
    return view;
  }

  it('A sees exactly the same whether B ignored or deleted its request', async () => {
    expect(await scenario(true)).toEqual(await scenario(false));
  });
});

describe('no re-entry by withdraw and re-send (14.2)', () => {
  it('a re-send after a delete is PENDING for the sender and reaches nothing of the recipient', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const first = await sendOk(a, b, 'first try');
    await t.ok(DeleteMessageRequestDocument, { id: first.id }, b.token);
    const before = await recipientView(b);
    const received = await t.subscribe(OnMessageRequestReceivedDocument, {}, b.token);
    const badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, b.token);

    await t.ok(WithdrawMessageRequestDocument, { id: first.id }, a.token);
    for (let i = 0; i < 3; i++) {
      const again = await sendOk(a, b, `try number ${i + 2}`);
      expect(again.status).toBe('PENDING');
      expect((await t.ok(MessageRequestByIdDocument, { id: again.id }, a.token)).messageRequest!.status).toBe('PENDING');
      expect(codeOf(await t.gql(MessageRequestByIdDocument, { id: again.id }, b.token))).toBe('NOT_FOUND');
      if (i < 2) await t.ok(WithdrawMessageRequestDocument, { id: again.id }, a.token);
    }
    // A sign of life from B's side arrives after anything the re-sends could have caused.
    const other = await t.makeUser();
    await sendOk(other, b, 'an unrelated request');
    expect((await received.next()).messageRequestReceived.request.text).toBe('an unrelated request');
    expect(received.events).toHaveLength(1);
    await badge.next();
    expect(badge.events).toHaveLength(1);
    await received.close();
    await badge.close();

    const after = await recipientView(b);
    expect(after.folder).toBe(before.folder + 1);
    expect(after.texts).toEqual(['an unrelated request']);
    expect(after.hidden).toBe(before.hidden);
    // Only the unrelated request's (a withdraw takes its own notification with it).
    expect(after.notifications).toBe(1);
    expect(after.badge.pendingRequestCount).toBe(1);
  });

  it('after the deleted request would have expired, a new request arrives without the old texts', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const first = await sendOk(a, b, 'the deleted text');
    await t.ok(DeleteMessageRequestDocument, { id: first.id }, b.token);
    await t.ok(WithdrawMessageRequestDocument, { id: first.id }, a.token);
    const silenced = await sendOk(a, b, 'the silenced text');
    t.clock.advance(31 * 86_400_000);
    const fresh = await sendOk(a, b, 'a fresh start');
    expect((await recipientView(b)).texts).toEqual(['a fresh start']);
    // The pair's conversation holds all three intros; the recipient sees only the live one.
    const convo = (await t.ok(MessageRequestByIdDocument, { id: fresh.id }, b.token)).messageRequest!.conversation!;
    const asB = (await t.ok(ConversationByIdDocument, { id: convo.id, last: 10 }, b.token)).conversation!;
    expect(asB.messages.edges.map((e) => e.node.text)).toEqual(['a fresh start']);
    expect(asB.lastMessage!.text).toBe('a fresh start');
    // Accepting opens the conversation: still nothing of the deleted texts, and unread 1.
    await t.ok(SendMessageRequestDocument, { input: { recipientId: a.id, text: 'welcome back' } }, b.token);
    const open = (await t.ok(ConversationByIdDocument, { id: convo.id, last: 10 }, b.token)).conversation!;
    expect(open.messages.edges.map((e) => e.node.text)).toEqual(['a fresh start', 'welcome back']);
    // The sender keeps its own history, as any sender does.
    const asA = (await t.ok(ConversationByIdDocument, { id: convo.id, last: 10 }, a.token)).conversation!;
    expect(asA.messages.edges.map((e) => e.node.text)).toEqual(['the deleted text', 'the silenced text', 'a fresh start', 'welcome back']);
    expect(silenced.id).not.toBe(fresh.id);
  });
});

describe('a silenced re-send is the recipient\'s to restore', () => {
  it('it is listed in recently deleted, and restored it shows its own text only', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const first = await sendOk(a, b, 'the deleted text');
    await t.ok(DeleteMessageRequestDocument, { id: first.id }, b.token);
    await t.ok(WithdrawMessageRequestDocument, { id: first.id }, a.token);
    const silenced = await sendOk(a, b, 'the quiet second try');
    const deleted = (await t.ok(DeletedMessageRequestsDocument, {}, b.token)).deletedMessageRequests;
    expect(deleted.edges.map((e) => e.node.id)).toEqual([silenced.id]);
    await t.ok(RestoreMessageRequestDocument, { id: silenced.id }, b.token);
    expect((await recipientView(b)).texts).toEqual(['the quiet second try']);
    const convo = (await t.ok(ConversationByIdDocument, { id: silenced.conversation.id, last: 10 }, b.token)).conversation!;
    expect(convo.messages.edges.map((e) => e.node.text)).toEqual(['the quiet second try']);
    expect((await t.ok(SentMessageRequestsDocument, {}, a.token)).sentMessageRequests.edges.map((e) => e.node.status)).toEqual(['PENDING', 'WITHDRAWN']);
  });
});

describe('NOBODY is off both ways (14.8)', () => {
  it('an account whose own policy is NOBODY cannot send requests or messages, and is told why', async () => {
    const [a, b, c] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const conversationId = await openConversation(t, b, a);
    await t.ok(UpdateMessagingSettingsDocument, { input: { directMessagePolicy: 'NOBODY' } }, a.token);
    const before = await t.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE sender_id = $1', [a.id]);
    expect(codeOf(await t.gql(SendMessageDocument, { input: { conversationId, text: 'still here?' } }, a.token))).toBe('OWN_MESSAGING_DISABLED');
    expect(codeOf(await send(a, c))).toBe('OWN_MESSAGING_DISABLED');
    const button = (await t.ok(MessageButtonDocument, { username: c.username }, a.token)).user!.messageButton;
    expect(button).toMatchObject({ state: 'UNAVAILABLE', reason: 'OWN_MESSAGING_DISABLED' });
    expect(await t.query('SELECT count(*)::int AS n FROM messages WHERE sender_id = $1', [a.id])).toEqual(before);
    // The other side gets the generic answer: it cannot tell messages off from a block.
    expect(codeOf(await t.gql(SendMessageDocument, { input: { conversationId, text: 'hello?' } }, b.token))).toBe('RECIPIENT_UNAVAILABLE');
  });
});

describe('no oracle between "blocked", "under 16" and "messages off" (14.6, send side)', () => {
  it('the send and the Message button answer the three alike, also across a 16th birthday', async () => {
    const asker = await t.makeUser();
    const blocker = await t.makeUser();
    await t.ok(BlockUserDocument, { userId: asker.id }, blocker.token);
    const off = await t.makeUser({ policy: 'NOBODY' });
    // 16 tomorrow; 16–17 start with NOBODY, so the default follows the birthday.
    const minor = await t.makeUser({ birthDate: birthDateForAge(16, t.clock.now(), -1), policy: 'NOBODY' });
    const probe = async (u: TestUser) => {
      const res = await send(asker, u);
      const button = (await t.ok(MessageButtonDocument, { username: u.username }, asker.token)).user!.messageButton;
      return { code: codeOf(res), message: res.errors?.[0]?.message, extensions: res.errors?.[0]?.extensions, button };
    };
    const answers = [await probe(blocker), await probe(off), await probe(minor)];
    expect(answers[0].code).toBe('RECIPIENT_UNAVAILABLE');
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    t.clock.advance(2 * 86_400_000);
    expect(await probe(minor)).toEqual(answers[0]);
  });

  it('in an open conversation, a block and messages off answer sendMessage alike', async () => {
    const [a, b, c] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    const withB = await openConversation(t, a, b);
    const withC = await openConversation(t, a, c);
    await t.ok(BlockUserDocument, { userId: a.id }, b.token);
    await t.ok(UpdateMessagingSettingsDocument, { input: { directMessagePolicy: 'NOBODY' } }, c.token);
    const toB = await t.gql(SendMessageDocument, { input: { conversationId: withB, text: 'hey' } }, a.token);
    const toC = await t.gql(SendMessageDocument, { input: { conversationId: withC, text: 'hey' } }, a.token);
    expect(codeOf(toB)).toBe('RECIPIENT_UNAVAILABLE');
    expect(toC.errors).toEqual(toB.errors);
  });
});

describe("a sender's deleted conversation comes back on its own message (14.7)", () => {
  it('the sender gets inboxBadgeChanged when its message brings the conversation back', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const conversationId = await openConversation(t, b, a);
    await t.ok(DeleteConversationDocument, { id: conversationId }, a.token);
    const badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, a.token);
    await t.ok(SendMessageDocument, { input: { conversationId, text: 'back again' } }, a.token);
    expect((await badge.next()).inboxBadgeChanged.cursor).toBeTruthy();
    await badge.close();
  });
});
