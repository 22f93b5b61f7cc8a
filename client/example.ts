/**
 * `npm run example`: two new accounts walk through the message-request flow against a
 * running server (GRAPHQL_URL, default http://localhost:4000/graphql), printing each step.
 *
 *   alice and bob sign up → bob listens for requests, alice for acceptance and seen
 *   receipts → alice sends a request → bob opens his Requests folder and accepts → they
 *   exchange messages → bob marks the conversation seen → alice gets the seen receipt →
 *   bob replies to a message, reacts to another; alice edits one and unsends a slip, each
 *   heard live by the other → bob catches up with events(after) from the last cursor it
 *   handled live.
 *
 * With the server's default NEW_ACCOUNT_HOURS (72), a request from a brand-new account is
 * filtered into bob's hidden requests (no notification, no subscription event); the
 * example then says so and accepts it from there.
 */
import { randomBytes } from 'node:crypto';
import {
  GraphQLRequestError,
  MessagingClient,
  ClientAcceptMessageRequestDocument,
  ClientEventsDocument,
  ClientHiddenMessageRequestsDocument,
  ClientInboxBadgeDocument,
  ClientLogInDocument,
  ClientMarkConversationSeenDocument,
  ClientMessageRequestsDocument,
  ClientMessagesDocument,
  ClientOnMessageReceivedDocument,
  ClientOnMessageRequestAcceptedDocument,
  ClientOnMessageRequestReceivedDocument,
  ClientOnMessageSeenDocument,
  ClientOnMessageEditedDocument,
  ClientOnMessageReactionDocument,
  ClientOnMessageUnsentDocument,
  ClientEditMessageDocument,
  ClientReactToMessageDocument,
  ClientUnsendMessageDocument,
  ClientProfileDocument,
  ClientSendMessageDocument,
  ClientSendMessageRequestDocument,
  ClientSentMessageRequestsDocument,
  ClientSignUpDocument,
  type ClientMessageFragment,
  type ClientRequestFragment,
} from './client';

const URL = process.env.GRAPHQL_URL ?? 'http://localhost:4000/graphql';
const PASSWORD = 'example-password-1';
/** How long to wait for a subscription event before catching up with events(after). */
const LIVE_TIMEOUT_MS = 5000;

let step = 0;
const heading = (text: string) => console.log(`\n${++step}. ${text}`);
const say = (who: string, text: string) => console.log(`   ${who.padEnd(5)} ${text}`);
const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
const short = (id: string) => id.slice(0, 8);
const time = (iso: string) => iso.slice(11, 19);

function describeRequest(r: ClientRequestFragment): string {
  return `${r.status} request ${short(r.id)} from @${r.sender.username} to @${r.recipient.username}: ${quote(r.text)}`;
}

function describeMessage(m: ClientMessageFragment): string {
  const seen = m.status === 'SEEN' && m.seenAt ? ` at ${time(m.seenAt)}` : '';
  return `[${time(m.createdAt)}] @${m.sender.username}: ${quote(m.text)} (${m.status}${seen})`;
}

async function main(): Promise<void> {
  console.log(`Message requests example against ${URL}`);
  const suffix = randomBytes(3).toString('hex');
  const alice = new MessagingClient(URL);
  const bob = new MessagingClient(URL);

  try {
    heading('Sign up two accounts (adults, so their policy starts at EVERYONE)');
    const a = await alice.request(ClientSignUpDocument, {
      input: { username: `alice_${suffix}`, password: PASSWORD, displayName: 'Alice', birthDate: '1995-04-12' },
    });
    alice.setToken(a.signUp.token);
    say('alice', `signed up as @${a.signUp.user.username} (id ${short(a.signUp.user.id)}, policy ${a.signUp.user.directMessagePolicy})`);
    const b = await bob.request(ClientSignUpDocument, {
      input: { username: `bob_${suffix}`, password: PASSWORD, displayName: 'Bob', birthDate: '1992-09-30' },
    });
    bob.setToken(b.signUp.token);
    say('bob', `signed up as @${b.signUp.user.username} (id ${short(b.signUp.user.id)}, policy ${b.signUp.user.directMessagePolicy})`);
    const aliceName = a.signUp.user.username;
    const bobName = b.signUp.user.username;

    heading('Log in (a fresh bearer token, the same one HTTP and WebSocket take)');
    const login = await alice.request(ClientLogInDocument, { input: { username: aliceName, password: PASSWORD } });
    alice.setToken(login.logIn.token);
    say('alice', `logged in as @${login.logIn.user.username}; token ${login.logIn.token.slice(0, 16)}...`);

    heading('Subscribe over graphql-ws (connectionParams.authorization = "Bearer <token>")');
    await Promise.all([alice.connect(), bob.connect()]);
    const bobRequests = bob.subscribe(ClientOnMessageRequestReceivedDocument);
    const bobMessages = bob.subscribe(ClientOnMessageReceivedDocument, {});
    const aliceAccepted = alice.subscribe(ClientOnMessageRequestAcceptedDocument);
    const aliceSeen = alice.subscribe(ClientOnMessageSeenDocument, {});
    const aliceReactions = alice.subscribe(ClientOnMessageReactionDocument, {});
    const bobEdited = bob.subscribe(ClientOnMessageEditedDocument, {});
    const bobUnsent = bob.subscribe(ClientOnMessageUnsentDocument, {});
    // graphql-ws has no "subscribed" acknowledgement; events that would race this are
    // recovered with events(after) below anyway.
    await new Promise((r) => setTimeout(r, 300));
    say('bob', 'listening: messageRequestReceived, messageReceived, messageEdited, messageUnsent');
    say('alice', 'listening: messageRequestAccepted, messageSeen, messageReaction');

    heading(`alice opens @${bobName}'s profile`);
    const profile = await alice.request(ClientProfileDocument, { username: bobName });
    const button = profile.user!.messageButton;
    say('alice', `Message button: ${button.state}${button.explanation ? ` (${button.explanation})` : ''}`);

    heading('alice sends a message request');
    const sent = await alice.request(ClientSendMessageRequestDocument, {
      input: { recipientId: b.signUp.user.id, text: 'Hi Bob! Loved your sourdough video. Could you share the recipe?', clientMessageId: `intro-${suffix}` },
    });
    const request = sent.sendMessageRequest;
    say('alice', `sent: ${describeRequest(request)}; expires ${request.expiresAt.slice(0, 10)}`);
    const again = await alice.request(ClientSendMessageRequestDocument, {
      input: { recipientId: b.signUp.user.id, text: 'Hi Bob! Loved your sourdough video. Could you share the recipe?', clientMessageId: `intro-${suffix}` },
    });
    say('alice', `retried with the same clientMessageId: same request ${short(again.sendMessageRequest.id)} (${again.sendMessageRequest.id === request.id ? 'nothing new written' : 'DIFFERENT?'})`);
    try {
      await alice.request(ClientSendMessageDocument, { input: { conversationId: request.conversation.id, text: 'Are you there?' } });
      say('alice', 'a second message went through (unexpected)');
    } catch (err) {
      if (!(err instanceof GraphQLRequestError)) throw err;
      say('alice', `a second message before acceptance is refused: ${err.code} — ${err.message}`);
    }

    heading(`bob's Requests folder`);
    const folder = await bob.request(ClientMessageRequestsDocument, { first: 20 });
    let pending: ClientRequestFragment | undefined = folder.messageRequests.edges.find((e) => e.node.id === request.id)?.node;
    if (pending) {
      const live = await bobRequests.next(LIVE_TIMEOUT_MS).catch(() => null);
      if (live) say('bob', `<- messageRequestReceived (cursor ${live.messageRequestReceived.cursor}): ${describeRequest(live.messageRequestReceived.request)}`);
      else say('bob', 'no live messageRequestReceived event in time (it is in the event log: see the catch-up below)');
      const badge = await bob.request(ClientInboxBadgeDocument);
      say('bob', `badge: ${badge.inboxBadge.pendingRequestCount} pending request(s), red dot ${badge.inboxBadge.showDot ? 'on' : 'off'}`);
      say('bob', `Requests folder (${folder.messageRequests.totalCount}):`);
      for (const { node } of folder.messageRequests.edges) {
        say('', `  - ${node.sender.displayName} (@${node.sender.username}${node.sender.verified ? ', verified' : ''}) at ${time(node.createdAt)}: ${quote(node.text)}`);
      }
    } else {
      say('bob', `Requests folder (${folder.messageRequests.totalCount}): alice's request is not there, and no notification came`);
      const hidden = await bob.request(ClientHiddenMessageRequestsDocument, { first: 20 });
      pending = hidden.hiddenMessageRequests.edges.find((e) => e.node.id === request.id)?.node;
      if (!pending) throw new Error('the request is in neither the Requests folder nor hidden requests');
      say('bob', `hidden requests (${hidden.hiddenMessageRequests.totalCount}): ${describeRequest(pending)}`);
      say('', '  (alice\'s account is new: requests from accounts younger than NEW_ACCOUNT_HOURS are filtered');
      say('', '   into hidden requests; start the server with NEW_ACCOUNT_HOURS=0 to see the main folder)');
    }

    heading('bob accepts');
    const accepted = await bob.request(ClientAcceptMessageRequestDocument, { id: pending.id });
    const conversationId = accepted.acceptMessageRequest.id;
    say('bob', `accepted: conversation ${short(conversationId)} with @${accepted.acceptMessageRequest.otherParticipant.username} is open (isRequest ${accepted.acceptMessageRequest.isRequest})`);
    const acceptedEvent = await aliceAccepted.next(LIVE_TIMEOUT_MS).catch(() => null);
    if (acceptedEvent) say('alice', `<- messageRequestAccepted (cursor ${acceptedEvent.messageRequestAccepted.cursor}): ${describeRequest(acceptedEvent.messageRequestAccepted.request)}`);
    else say('alice', 'no live messageRequestAccepted event in time');
    const mine = await alice.request(ClientSentMessageRequestsDocument, { first: 5 });
    say('alice', `sent requests: ${mine.sentMessageRequests.edges.map((e) => `${short(e.node.id)} ${e.node.status}`).join(', ')}`);

    heading('They exchange messages');
    const m1 = await alice.request(ClientSendMessageDocument, {
      input: { conversationId, text: 'Thanks for accepting! 🍞', clientMessageId: `m1-${suffix}` },
    });
    say('alice', `sent ${describeMessage(m1.sendMessage)}`);
    const got = await bobMessages.next(LIVE_TIMEOUT_MS).catch(() => null);
    if (got) say('bob', `<- messageReceived (cursor ${got.messageReceived.cursor}): ${describeMessage(got.messageReceived.message)}`);
    const m2 = await bob.request(ClientSendMessageDocument, {
      input: { conversationId, text: 'Sure: 500 g flour, 350 g water, 100 g starter, 10 g salt.', clientMessageId: `m2-${suffix}` },
    });
    say('bob', `sent ${describeMessage(m2.sendMessage)}`);
    const m3 = await alice.request(ClientSendMessageDocument, {
      input: { conversationId, text: 'Perfect, baking it this weekend.', clientMessageId: `m3-${suffix}` },
    });
    say('alice', `sent ${describeMessage(m3.sendMessage)}`);

    heading('bob reads the conversation and marks it seen');
    const before = await bob.request(ClientMessagesDocument, { conversationId, last: 20 });
    for (const { node } of before.messages.edges) say('bob', `  ${describeMessage(node)}`);
    const seen = await bob.request(ClientMarkConversationSeenDocument, { conversationId });
    say('bob', `marked seen; unread now ${seen.markConversationSeen.unreadCount}`);

    heading('alice gets the seen receipt');
    const receipt = await aliceSeen.next(LIVE_TIMEOUT_MS).catch(() => null);
    if (receipt) {
      const r = receipt.messageSeen;
      say('alice', `<- messageSeen (cursor ${r.cursor}): @${r.reader.username} saw up to message ${short(r.upToMessageId)} at ${time(r.seenAt)}`);
    } else say('alice', 'no live messageSeen event in time');
    const after = await alice.request(ClientMessagesDocument, { conversationId, last: 20 });
    for (const { node } of after.messages.edges) say('alice', `  ${describeMessage(node)}`);

    heading('bob replies and reacts; alice edits a message and unsends a slip');
    const reply = await bob.request(ClientSendMessageDocument, {
      input: { conversationId, text: 'Enjoy it!', replyToId: m1.sendMessage.id, clientMessageId: `m4-${suffix}` },
    });
    say('bob', `replied ${quote(reply.sendMessage.text)} to ${quote(reply.sendMessage.replyTo?.text ?? '?')}`);
    const reacted = await bob.request(ClientReactToMessageDocument, { messageId: m3.sendMessage.id, emoji: '🔥' });
    say('bob', `reacted 🔥; reactions now ${reacted.reactToMessage.reactions.map((r) => `${r.emoji}×${r.count}`).join(' ')}`);
    const reaction = await aliceReactions.next(LIVE_TIMEOUT_MS).catch(() => null);
    if (reaction) say('alice', `<- messageReaction (cursor ${reaction.messageReaction.cursor}): ${reaction.messageReaction.emoji} on message ${short(reaction.messageReaction.message.id)}`);
    const edited = await alice.request(ClientEditMessageDocument, { id: m3.sendMessage.id, text: 'Perfect, baking it on Saturday.' });
    say('alice', `edited: ${quote(edited.editMessage.text)} (edited at ${time(edited.editMessage.editedAt!)})`);
    const editEvent = await bobEdited.next(LIVE_TIMEOUT_MS).catch(() => null);
    if (editEvent) say('bob', `<- messageEdited (cursor ${editEvent.messageEdited.cursor}): ${quote(editEvent.messageEdited.message.text)}`);
    try {
      await bob.request(ClientEditMessageDocument, { id: m3.sendMessage.id, text: 'Not yours to edit' });
    } catch (err) {
      if (!(err instanceof GraphQLRequestError)) throw err;
      say('bob', `editing alice's message is refused: ${err.code}`);
    }
    const slip = await alice.request(ClientSendMessageDocument, { input: { conversationId, text: 'oops, wrong chat', clientMessageId: `m5-${suffix}` } });
    const unsent = await alice.request(ClientUnsendMessageDocument, { id: slip.sendMessage.id });
    say('alice', `unsent message ${short(unsent.unsendMessage.id)}: text now ${quote(unsent.unsendMessage.text)}, unsent ${unsent.unsendMessage.unsent}`);
    const unsentEvent = await bobUnsent.next(LIVE_TIMEOUT_MS).catch(() => null);
    if (unsentEvent) say('bob', `<- messageUnsent (cursor ${unsentEvent.messageUnsent.cursor}): message ${short(unsentEvent.messageUnsent.message.id)} shows "message unsent"`);

    heading('bob catches up with events(after), as a client does after a reconnect');
    // Every subscription payload carries its cursor; a client keeps the last one it handled.
    const lastLive = got?.messageReceived.cursor ?? null;
    const missed = await bob.request(ClientEventsDocument, { after: lastLive, first: 100 });
    say('bob', `last cursor taken live: ${lastLive ?? 'none'}; events(after: ${lastLive ? `"${lastLive}"` : 'null'}) returns ${missed.events.length} event(s):`);
    for (const e of missed.events) {
      const what = e.request ? ` request ${short(e.request.id)} ${e.request.status}` : e.messageId ? ` message ${short(e.messageId)}` : '';
      say('', `  cursor ${e.cursor}: ${e.type}${what}`);
    }

    console.log('\nDone.');
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
}

main().catch((err) => {
  if (err instanceof GraphQLRequestError) console.error(`\nFailed: ${err.code ?? 'ERROR'}: ${err.message}`);
  else if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') console.error(`\nFailed: no server at ${URL} (start one with \`npm start\`, or set GRAPHQL_URL)`);
  else console.error('\nFailed:', err);
  process.exit(1);
});
