import { evaluateSendMessage, receiptsAllowed, visibleSeenAt, type SendMessageFacts } from '../../src/modules/messages/message-rules';

const base = (over: Partial<SendMessageFacts> = {}): SendMessageFacts => ({
  senderBan: null,
  senderPolicy: 'EVERYONE',
  relationship: { aBlocksB: false, bBlocksA: false },
  conversationOpen: true,
  recipientPolicy: 'EVERYONE',
  text: 'hello',
  ...over,
});
const code = (facts: SendMessageFacts) => {
  const v = evaluateSendMessage(facts);
  return v.allowed ? 'ALLOWED' : v.code;
};

describe('sendMessage rules', () => {
  it.each<[string, Partial<SendMessageFacts>, string]>([
    ['an open conversation', {}, 'ALLOWED'],
    ['a FOLLOWING recipient who does not follow: follows do not matter once open', { recipientPolicy: 'FOLLOWING' }, 'ALLOWED'],
    ['a banned sender', { senderBan: { until: null } }, 'MESSAGING_BANNED'],
    ['the sender blocked the recipient', { relationship: { aBlocksB: true, bBlocksA: false } }, 'RECIPIENT_UNAVAILABLE'],
    ['the recipient blocked the sender', { relationship: { aBlocksB: false, bBlocksA: true } }, 'RECIPIENT_UNAVAILABLE'],
    ['a request not yet accepted', { conversationOpen: false }, 'REQUEST_PENDING'],
    ['a recipient with NOBODY: the same answer as a block', { recipientPolicy: 'NOBODY' }, 'RECIPIENT_UNAVAILABLE'],
    ['the sender with NOBODY: messaging off both ways', { senderPolicy: 'NOBODY' }, 'OWN_MESSAGING_DISABLED'],
    ['4001 characters', { text: 'x'.repeat(4001) }, 'BAD_USER_INPUT'],
    ['4000 emoji', { text: '🙂'.repeat(4000) }, 'ALLOWED'],
    ['only spaces', { text: '  \n ' }, 'BAD_USER_INPUT'],
    ['a NUL', { text: 'a\u0000' }, 'BAD_USER_INPUT'],
    ['a reply to a message of this conversation', { replyFound: true }, 'ALLOWED'],
    ['a reply to a message not found here (another conversation, unsent, hidden)', { replyFound: false }, 'NOT_FOUND'],
    ['a reply not found in a pending request: the request answers first', { replyFound: false, conversationOpen: false }, 'REQUEST_PENDING'],
    ['a reply not found across a block: the block answers first', { replyFound: false, relationship: { aBlocksB: false, bBlocksA: true } }, 'RECIPIENT_UNAVAILABLE'],
  ])('%s → %s', (_n, over, expected) => {
    expect(code(base(over))).toBe(expected);
  });

  it('applies the rules in order: ban, own policy, block or recipient policy, request, text', () => {
    let facts = base({
      senderBan: { until: new Date('2030-01-01T00:00:00Z') },
      senderPolicy: 'NOBODY',
      relationship: { aBlocksB: true, bBlocksA: true },
      conversationOpen: false,
      recipientPolicy: 'NOBODY',
      text: '',
    });
    const fixes: Array<[string, Partial<SendMessageFacts>]> = [
      ['MESSAGING_BANNED', { senderBan: null }],
      ['OWN_MESSAGING_DISABLED', { senderPolicy: 'FOLLOWING' }],
      ['RECIPIENT_UNAVAILABLE', { relationship: { aBlocksB: false, bBlocksA: false } }],
      ['RECIPIENT_UNAVAILABLE', { recipientPolicy: 'EVERYONE' }],
      ['REQUEST_PENDING', { conversationOpen: true }],
      ['BAD_USER_INPUT', { text: 'ok' }],
    ];
    for (const [expected, fix] of fixes) {
      expect(code(facts)).toBe(expected);
      facts = { ...facts, ...fix };
    }
    expect(code(facts)).toBe('ALLOWED');
  });

  it('gives the ban end', () => {
    expect(evaluateSendMessage(base({ senderBan: { until: new Date('2030-01-01T00:00:00Z') } }))).toMatchObject({ extensions: { until: '2030-01-01T00:00:00.000Z' } });
  });
});

describe('seen receipts', () => {
  const none = { aBlocksB: false, bBlocksA: false };
  it.each<[string, boolean, { aBlocksB: boolean; bBlocksA: boolean }, boolean]>([
    ['open, no block', true, none, true],
    ['still a request', false, none, false],
    ['the reader blocked the sender', true, { aBlocksB: true, bBlocksA: false }, false],
    ['the sender blocked the reader', true, { aBlocksB: false, bBlocksA: true }, false],
  ])('%s', (_name, conversationOpen, relationship, allowed) => {
    expect(receiptsAllowed({ conversationOpen, relationship })).toBe(allowed);
  });
});

describe('read receipts on/off: seenAt as the viewer sees it', () => {
  const seen = new Date('2026-12-05T10:00:00Z');
  it.each<[string, { senderId: string; seenAt: Date | null }, { id: string; readReceipts: boolean } | null, Date | null]>([
    ['the sender, receipts on', { senderId: 'a', seenAt: seen }, { id: 'a', readReceipts: true }, seen],
    ['the sender, receipts off: SENT to it', { senderId: 'a', seenAt: seen }, { id: 'a', readReceipts: false }, null],
    ['the reader, whatever its setting (its own reading)', { senderId: 'a', seenAt: seen }, { id: 'b', readReceipts: false }, seen],
    ['not seen yet', { senderId: 'a', seenAt: null }, { id: 'a', readReceipts: true }, null],
    ['no viewer', { senderId: 'a', seenAt: seen }, null, seen],
  ])('%s', (_n, message, viewer, expected) => {
    expect(visibleSeenAt(message, viewer)).toEqual(expected);
  });
});
