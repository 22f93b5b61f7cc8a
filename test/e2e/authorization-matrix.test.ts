import { getNamedType, isInputObjectType, type GraphQLArgument, type GraphQLField, type GraphQLInputType } from 'graphql';
import { startTestApp, codeOf, type TestApp, type TestUser } from '../support/app';
import { until } from '../support/until';
import { AcceptMessageRequestDocument, DeleteMessageRequestDocument, NotificationsDocument, SendMessageDocument, SendMessageRequestDocument } from '../generated/graphql';

/**
 * SPEC §6 / issue 5: for every operation that takes an id, a third account using another
 * pair's ids gets NOT_FOUND (FORBIDDEN for moderator-only operations), sees none of their
 * text, and changes nothing. The list of operations is read from the schema, so a new
 * operation that takes an id fails this test until it is added here.
 */
let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let mallory: TestUser;
const ids: Record<string, string> = {};
const SECRET = 'SECRET-between-alice-and-bob';

beforeAll(async () => {
  t = await startTestApp({ MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000' });
  [alice, bob, mallory] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
  const carol = await t.makeUser();
  // An open conversation alice–bob with messages, and a pending request carol → bob.
  const opened = await t.ok(SendMessageRequestDocument, { input: { recipientId: bob.id, text: `${SECRET} intro` } }, alice.token);
  const conversation = await t.ok(AcceptMessageRequestDocument, { id: opened.sendMessageRequest.id }, bob.token);
  ids.conversation = conversation.acceptMessageRequest.id;
  ids.acceptedRequest = opened.sendMessageRequest.id;
  const msg = await t.ok(SendMessageDocument, { input: { conversationId: ids.conversation, text: `${SECRET} message` } }, alice.token);
  ids.message = msg.sendMessage.id;
  const pending = await t.ok(SendMessageRequestDocument, { input: { recipientId: bob.id, text: `${SECRET} pending` } }, carol.token);
  ids.pendingRequest = pending.sendMessageRequest.id;
  // A request bob deleted and may still restore (recently deleted).
  const dave = await t.makeUser();
  const binned = await t.ok(SendMessageRequestDocument, { input: { recipientId: bob.id, text: `${SECRET} deleted` } }, dave.token);
  await t.ok(DeleteMessageRequestDocument, { id: binned.sendMessageRequest.id }, bob.token);
  ids.deletedRequest = binned.sendMessageRequest.id;
  const notes = await t.ok(NotificationsDocument, {}, bob.token);
  ids.notification = notes.notifications.edges[0].node.id;
  const [report] = await t.query<{ id: string }>(
    `INSERT INTO reports (reporter_id, reported_id, reason) VALUES ($1, $2, 'SPAM') RETURNING id`,
    [bob.id, carol.id],
  );
  ids.report = report.id;
});
afterAll(() => t.close());

/** A digest of everything a mutation could change. */
async function snapshot(): Promise<string> {
  const [row] = await t.query<{ digest: string }>(`SELECT md5(concat_ws('|',
      (SELECT string_agg(concat_ws(':', id, status, deleted_at, accepted_at), ',' ORDER BY id) FROM message_requests),
      (SELECT string_agg(concat_ws(':', id, status, last_seq), ',' ORDER BY id) FROM conversations),
      (SELECT string_agg(concat_ws(':', conversation_id, user_id, in_inbox, last_read_seq, muted), ',' ORDER BY conversation_id, user_id) FROM conversation_members),
      (SELECT string_agg(concat_ws(':', id, seen_at, md5(text), edit_count, unsent_at, reply_to_id), ',' ORDER BY id) FROM messages),
      (SELECT string_agg(concat_ws(':', message_id, user_id, emoji), ',' ORDER BY message_id, user_id) FROM message_reactions),
      (SELECT count(*) FROM message_sealed_texts),
      (SELECT string_agg(concat_ws(':', id, read_at), ',' ORDER BY id) FROM notifications),
      (SELECT count(*) FROM events),
      (SELECT string_agg(concat_ws(':', id, status), ',' ORDER BY id) FROM reports),
      (SELECT count(*) FROM messaging_bans),
      (SELECT count(*) FROM blocks),
      (SELECT string_agg(concat_ws(':', id, verified, role, read_receipts), ',' ORDER BY id) FROM users))) AS digest`);
  return row.digest;
}

interface Case {
  query: string;
  variables: () => Record<string, unknown>;
  code: 'NOT_FOUND' | 'FORBIDDEN' | 'NONE_CHANGED';
}

// Keyed by operation name; each uses the alice–bob pair's ids as mallory.
const CASES: Record<string, Case> = {
  messageRequest: { query: 'query($id: ID!) { messageRequest(id: $id) { id text } }', variables: () => ({ id: ids.pendingRequest }), code: 'NOT_FOUND' },
  conversation: { query: 'query($id: ID!) { conversation(id: $id) { id } }', variables: () => ({ id: ids.conversation }), code: 'NOT_FOUND' },
  messages: {
    query: 'query($id: ID!) { messages(conversationId: $id) { edges { node { text } } } }',
    variables: () => ({ id: ids.conversation }),
    code: 'NOT_FOUND',
  },
  acceptMessageRequest: { query: 'mutation($id: ID!) { acceptMessageRequest(id: $id) { id } }', variables: () => ({ id: ids.pendingRequest }), code: 'NOT_FOUND' },
  acceptMessageRequests: {
    query: 'mutation($ids: [ID!]!) { acceptMessageRequests(ids: $ids) { succeeded notFound } }',
    variables: () => ({ ids: [ids.pendingRequest] }),
    code: 'NONE_CHANGED',
  },
  deleteMessageRequest: { query: 'mutation($id: ID!) { deleteMessageRequest(id: $id) }', variables: () => ({ id: ids.pendingRequest }), code: 'NOT_FOUND' },
  deleteMessageRequests: {
    query: 'mutation($ids: [ID!]!) { deleteMessageRequests(ids: $ids, block: true) { succeeded notFound } }',
    variables: () => ({ ids: [ids.pendingRequest, ids.acceptedRequest] }),
    code: 'NONE_CHANGED',
  },
  restoreMessageRequest: { query: 'mutation($id: ID!) { restoreMessageRequest(id: $id) { id text } }', variables: () => ({ id: ids.deletedRequest }), code: 'NOT_FOUND' },
  withdrawMessageRequest: { query: 'mutation($id: ID!) { withdrawMessageRequest(id: $id) { id } }', variables: () => ({ id: ids.pendingRequest }), code: 'NOT_FOUND' },
  sendMessage: {
    query: 'mutation($id: ID!) { sendMessage(input: { conversationId: $id, text: "intrusion" }) { id } }',
    variables: () => ({ id: ids.conversation }),
    code: 'NOT_FOUND',
  },
  markConversationSeen: {
    query: 'mutation($id: ID!, $m: ID) { markConversationSeen(conversationId: $id, upToMessageId: $m) { id } }',
    variables: () => ({ id: ids.conversation, m: ids.message }),
    code: 'NOT_FOUND',
  },
  editMessage: { query: 'mutation($id: ID!) { editMessage(id: $id, text: "intrusion") { id text } }', variables: () => ({ id: ids.message }), code: 'NOT_FOUND' },
  unsendMessage: { query: 'mutation($id: ID!) { unsendMessage(id: $id) { id text } }', variables: () => ({ id: ids.message }), code: 'NOT_FOUND' },
  reactToMessage: { query: 'mutation($id: ID!) { reactToMessage(messageId: $id, emoji: "👍") { id text } }', variables: () => ({ id: ids.message }), code: 'NOT_FOUND' },
  removeReaction: { query: 'mutation($id: ID!) { removeReaction(messageId: $id) { id text } }', variables: () => ({ id: ids.message }), code: 'NOT_FOUND' },
  deleteConversation: { query: 'mutation($id: ID!) { deleteConversation(id: $id) }', variables: () => ({ id: ids.conversation }), code: 'NOT_FOUND' },
  muteConversation: { query: 'mutation($id: ID!) { muteConversation(id: $id) { id muted } }', variables: () => ({ id: ids.conversation }), code: 'NOT_FOUND' },
  unmuteConversation: { query: 'mutation($id: ID!) { unmuteConversation(id: $id) { id muted } }', variables: () => ({ id: ids.conversation }), code: 'NOT_FOUND' },
  markNotificationsRead: { query: 'mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }', variables: () => ({ ids: [ids.notification] }), code: 'NONE_CHANGED' },
  reportUser: {
    query: 'mutation($u: ID!, $m: ID) { reportUser(input: { userId: $u, reason: SPAM, messageId: $m }) { id } }',
    variables: () => ({ u: alice.id, m: ids.message }),
    code: 'NOT_FOUND',
  },
  resolveReport: { query: 'mutation($id: ID!) { resolveReport(id: $id, action: BAN) { id } }', variables: () => ({ id: ids.report }), code: 'FORBIDDEN' },
  banFromMessaging: { query: 'mutation($id: ID!) { banFromMessaging(userId: $id) { id } }', variables: () => ({ id: alice.id }), code: 'FORBIDDEN' },
  liftMessagingBan: { query: 'mutation($id: ID!) { liftMessagingBan(userId: $id) { id } }', variables: () => ({ id: alice.id }), code: 'FORBIDDEN' },
  setVerified: { query: 'mutation($id: ID!) { setVerified(userId: $id, verified: true) { id } }', variables: () => ({ id: alice.id }), code: 'FORBIDDEN' },
};

// Operations whose id is a public account id (anyone may act on any account), checked
// separately below: they must not reveal the pair's text.
const PUBLIC_USER_ID_OPERATIONS = new Set(['follow', 'unfollow', 'blockUser', 'unblockUser', 'sendMessageRequest']);
const SUBSCRIPTIONS = new Set(['messageReceived', 'messageSeen', 'messageUnsent', 'messageEdited', 'messageReaction']);

function takesId(field: GraphQLField<unknown, unknown>): boolean {
  const seen = new Set<string>();
  const hasId = (type: GraphQLInputType): boolean => {
    const named = getNamedType(type);
    if (named.name === 'ID') return true;
    if (isInputObjectType(named) && !seen.has(named.name)) {
      seen.add(named.name);
      return Object.values(named.getFields()).some((f) => hasId(f.type));
    }
    return false;
  };
  return field.args.some((a: GraphQLArgument) => hasId(a.type));
}

describe('authorization matrix', () => {
  it('covers every query, mutation and subscription that takes an id', () => {
    const schema = t.app.schema;
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
    const withIds = roots.flatMap((root) => Object.values(root!.getFields()).filter(takesId).map((f) => f.name));
    const uncovered = withIds.filter((name) => !CASES[name] && !PUBLIC_USER_ID_OPERATIONS.has(name) && !SUBSCRIPTIONS.has(name));
    expect(uncovered).toEqual([]);
  });

  it.each(Object.keys(CASES))('%s with another pair’s ids: refused, no text, nothing changed', async (name) => {
    const c = CASES[name];
    const before = await snapshot();
    const res = await t.gql(c.query, c.variables(), mallory.token);
    if (c.code === 'NONE_CHANGED') {
      expect(res.errors).toBeUndefined();
      expect(JSON.stringify(res.data)).not.toMatch(/"succeeded":\["/);
      if (name === 'markNotificationsRead') expect(res.data).toEqual({ markNotificationsRead: 0 });
    } else {
      expect(codeOf(res)).toBe(c.code);
    }
    expect(JSON.stringify(res)).not.toContain(SECRET);
    expect(await snapshot()).toBe(before);
  });

  it('subscriptions to another pair’s conversation deliver nothing of theirs', async () => {
    const received = await t.subscribe(
      'subscription($id: ID) { messageReceived(conversationId: $id) { cursor message { text } } }',
      { id: ids.conversation },
      mallory.token,
    );
    const seen = await t.subscribe('subscription($id: ID) { messageSeen(conversationId: $id) { cursor } }', { id: ids.conversation }, mallory.token);
    // Positive controls: the pair's own sockets hear both events, so they were published.
    const aliceReceived = await t.subscribe('subscription($id: ID) { messageReceived(conversationId: $id) { cursor } }', { id: ids.conversation }, alice.token);
    const bobSeen = await t.subscribe('subscription($id: ID) { messageSeen(conversationId: $id) { cursor } }', { id: ids.conversation }, bob.token);
    await t.ok(SendMessageDocument, { input: { conversationId: ids.conversation, text: `${SECRET} live` } }, bob.token);
    await aliceReceived.next();
    await t.ok('mutation($id: ID!) { markConversationSeen(conversationId: $id) { id } }', { id: ids.conversation }, alice.token);
    await bobSeen.next();
    // Proof the sockets work: a message in mallory's own conversation arrives.
    const [x] = [await t.makeUser()];
    const r = await t.ok(SendMessageRequestDocument, { input: { recipientId: mallory.id, text: 'hi mallory' } }, x.token);
    const own = await t.ok(AcceptMessageRequestDocument, { id: r.sendMessageRequest.id }, mallory.token);
    const ownReceived = await t.subscribe('subscription { messageReceived { message { text } } }', {}, mallory.token);
    await t.ok(SendMessageDocument, { input: { conversationId: own.acceptMessageRequest.id, text: 'for mallory' } }, x.token);
    expect(await ownReceived.next()).toEqual({ messageReceived: { message: { text: 'for mallory' } } });
    expect(received.events).toEqual([]);
    expect(seen.events).toEqual([]);
    expect(JSON.stringify([received.errors, seen.errors])).not.toContain(SECRET);
    for (const s of [received, seen, ownReceived, aliceReceived, bobSeen]) await s.close();
  });

  it('edits, unsends and reactions in another pair’s conversation reach none of mallory’s subscriptions', async () => {
    const names = ['messageEdited', 'messageUnsent', 'messageReaction'];
    // One at a time, once the last test's streams have ended: t.subscribe waits for the
    // listener count to rise.
    await until('earlier subscriptions to end', () => t.app.services.events.listenerCount() === 0);
    const mallorys = [];
    const bobs = [];
    for (const n of names) {
      mallorys.push(await t.subscribe(`subscription($id: ID) { ${n}(conversationId: $id) { cursor message { text } } }`, { id: ids.conversation }, mallory.token));
      bobs.push(await t.subscribe(`subscription($id: ID) { ${n}(conversationId: $id) { cursor } }`, { id: ids.conversation }, bob.token));
    }
    const msg = await t.ok(SendMessageDocument, { input: { conversationId: ids.conversation, text: `${SECRET} to change` } }, alice.token);
    await t.ok('mutation($id: ID!) { editMessage(id: $id, text: "SECRET-between-alice-and-bob edited") { id } }', { id: msg.sendMessage.id }, alice.token);
    await bobs[0].next();
    await t.ok('mutation($id: ID!) { reactToMessage(messageId: $id, emoji: "👍") { id } }', { id: msg.sendMessage.id }, bob.token);
    await bobs[2].next();
    await t.ok('mutation($id: ID!) { unsendMessage(id: $id) { id } }', { id: msg.sendMessage.id }, alice.token);
    await bobs[1].next();
    // Proof mallory's sockets work: her own conversation's edit arrives.
    const x = await t.makeUser();
    const r = await t.ok(SendMessageRequestDocument, { input: { recipientId: mallory.id, text: 'hi again' } }, x.token);
    const own = await t.ok(AcceptMessageRequestDocument, { id: r.sendMessageRequest.id }, mallory.token);
    const ownEdited = await t.subscribe('subscription { messageEdited { message { text } } }', {}, mallory.token);
    const mine = await t.ok(SendMessageDocument, { input: { conversationId: own.acceptMessageRequest.id, text: 'draft' } }, x.token);
    await t.ok('mutation($id: ID!) { editMessage(id: $id, text: "final") { id } }', { id: mine.sendMessage.id }, x.token);
    expect(await ownEdited.next()).toEqual({ messageEdited: { message: { text: 'final' } } });
    for (const s of mallorys) {
      expect(s.events).toEqual([]);
      expect(JSON.stringify(s.errors)).not.toContain(SECRET);
    }
    for (const s of [...mallorys, ...bobs, ownEdited]) await s.close();
  });

  it('public-account operations reveal nothing of the pair', async () => {
    for (const query of [
      'mutation($id: ID!) { follow(userId: $id) { id username } }',
      'mutation($id: ID!) { unfollow(userId: $id) { id } }',
      'mutation($id: ID!) { blockUser(userId: $id) { id } }',
      'mutation($id: ID!) { unblockUser(userId: $id) { id } }',
    ]) {
      const res = await t.gql(query, { id: alice.id }, mallory.token);
      expect(res.errors).toBeUndefined();
      expect(JSON.stringify(res)).not.toContain(SECRET);
    }
  });
});
