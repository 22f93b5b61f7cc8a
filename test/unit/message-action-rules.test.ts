import { evaluateMessageAction, type MessageActionFacts } from '../../src/modules/messages/message-action-rules';
import { isSingleEmoji } from '../../src/lib/emoji';

const NOW = new Date('2026-12-05T12:00:00Z');
const MIN = 60_000;
const limits = { unsendWindowMs: 24 * 60 * MIN, editWindowMs: 15 * MIN, maxEdits: 5 };

const base = (over: Partial<MessageActionFacts> = {}): MessageActionFacts => ({
  action: 'EDIT',
  senderBan: null,
  senderPolicy: 'EVERYONE',
  relationship: { aBlocksB: false, bBlocksA: false },
  conversationOpen: true,
  recipientPolicy: 'EVERYONE',
  viewerIsSender: true,
  pendingIntroOfViewer: false,
  unsent: false,
  createdAt: new Date(NOW.getTime() - MIN),
  editCount: 0,
  now: NOW,
  text: 'fixed typo',
  emoji: '👍',
  limits,
  ...over,
});
const code = (facts: MessageActionFacts) => {
  const v = evaluateMessageAction(facts);
  return v.allowed ? (v.alreadyDone ? 'ALREADY_DONE' : 'ALLOWED') : v.code;
};
const ago = (ms: number) => new Date(NOW.getTime() - ms);

describe('message action rules', () => {
  it.each<[string, Partial<MessageActionFacts>, string]>([
    ['edit own message', {}, 'ALLOWED'],
    ['edit someone else’s', { viewerIsSender: false }, 'FORBIDDEN'],
    ['edit at exactly 15 minutes', { createdAt: ago(15 * MIN) }, 'ALLOWED'],
    ['edit after 15 minutes', { createdAt: ago(15 * MIN + 1) }, 'EDIT_WINDOW_CLOSED'],
    ['a 5th edit', { editCount: 4 }, 'ALLOWED'],
    ['a 6th edit', { editCount: 5 }, 'EDIT_LIMIT_REACHED'],
    ['edit to blank text', { text: '  ' }, 'BAD_USER_INPUT'],
    ['edit to 4001 characters', { text: 'x'.repeat(4001) }, 'BAD_USER_INPUT'],
    ['edit an unsent message', { unsent: true }, 'NOT_FOUND'],
    ['edit in a pending request', { conversationOpen: false }, 'REQUEST_PENDING'],
    ['edit the pending intro: a request is not changed while it waits', { conversationOpen: false, pendingIntroOfViewer: true }, 'REQUEST_PENDING'],
    ['edit while banned', { senderBan: { until: null } }, 'MESSAGING_BANNED'],
    ['edit with own messages off', { senderPolicy: 'NOBODY' }, 'OWN_MESSAGING_DISABLED'],
    ['edit across a block', { relationship: { aBlocksB: false, bBlocksA: true } }, 'RECIPIENT_UNAVAILABLE'],
    ['edit when the other has messages off', { recipientPolicy: 'NOBODY' }, 'RECIPIENT_UNAVAILABLE'],
    ['unsend own message', { action: 'UNSEND' }, 'ALLOWED'],
    ['unsend at 24 h', { action: 'UNSEND', createdAt: ago(24 * 60 * MIN) }, 'ALLOWED'],
    ['unsend after 24 h', { action: 'UNSEND', createdAt: ago(24 * 60 * MIN + 1) }, 'UNSEND_WINDOW_CLOSED'],
    ['unsend someone else’s', { action: 'UNSEND', viewerIsSender: false }, 'FORBIDDEN'],
    ['unsend again', { action: 'UNSEND', unsent: true }, 'ALREADY_DONE'],
    ['unsend the pending intro of one’s request (withdraws it)', { action: 'UNSEND', conversationOpen: false, pendingIntroOfViewer: true }, 'ALLOWED'],
    ['unsend another message of a request conversation', { action: 'UNSEND', conversationOpen: false }, 'REQUEST_PENDING'],
    ['unsend across a block: evidence stays', { action: 'UNSEND', relationship: { aBlocksB: true, bBlocksA: false } }, 'RECIPIENT_UNAVAILABLE'],
    ['unsend while banned: evidence stays', { action: 'UNSEND', senderBan: { until: null } }, 'MESSAGING_BANNED'],
    ['react to someone else’s message', { action: 'REACT', viewerIsSender: false }, 'ALLOWED'],
    ['react to one’s own, long after', { action: 'REACT', createdAt: ago(400 * 24 * 60 * MIN) }, 'ALLOWED'],
    ['react with two emoji', { action: 'REACT', emoji: '👍👍' }, 'BAD_USER_INPUT'],
    ['react to an unsent message', { action: 'REACT', unsent: true }, 'NOT_FOUND'],
    ['react in a pending request', { action: 'REACT', conversationOpen: false, viewerIsSender: false }, 'REQUEST_PENDING'],
    ['react across a block', { action: 'REACT', relationship: { aBlocksB: true, bBlocksA: false } }, 'RECIPIENT_UNAVAILABLE'],
    ['remove a reaction', { action: 'UNREACT', emoji: undefined }, 'ALLOWED'],
    ['remove a reaction while banned', { action: 'UNREACT', senderBan: { until: null } }, 'MESSAGING_BANNED'],
  ])('%s → %s', (_n, over, expected) => {
    expect(code(base(over))).toBe(expected);
  });

  it('answers the window and the limit in extensions', () => {
    expect(evaluateMessageAction(base({ createdAt: ago(16 * MIN) }))).toMatchObject({ extensions: { windowSeconds: 900 } });
    expect(evaluateMessageAction(base({ editCount: 5 }))).toMatchObject({ extensions: { maxEdits: 5 } });
    expect(evaluateMessageAction(base({ action: 'UNSEND', createdAt: ago(25 * 60 * MIN) }))).toMatchObject({ extensions: { windowSeconds: 86_400 } });
  });
});

describe('a reaction is one emoji', () => {
  it.each(['👍', '👍🏽', '❤️', '❤', '👨‍👩‍👧', '🏳️‍🌈', '🇫🇷', '1️⃣', '#️⃣', '😀', '🫠'])('%s is accepted', (e) => {
    expect(isSingleEmoji(e)).toBe(true);
  });
  it.each(['', 'a', '1', '#', 'ok', '👍👍', '👍 ', ' 👍', '\u200F👍', '\u202E👍', '👍\u0000', '🇫', '©x', '👍'.repeat(40)])('%j is refused', (e) => {
    expect(isSingleEmoji(e)).toBe(false);
  });
});
