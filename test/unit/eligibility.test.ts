import { evaluateEligibility, messageButtonFor, type EligibilityInput } from '../../src/modules/requests/eligibility';

const NOW = new Date('2026-06-15T12:00:00Z');
const ADULT = '1990-01-01';
const SIXTEEN_TODAY = '2010-06-15';
const SIXTEEN_TOMORROW = '2010-06-16';

function base(over: Partial<EligibilityInput> = {}): EligibilityInput {
  return {
    now: NOW,
    sender: { id: 's', birthDate: ADULT, policy: 'EVERYONE' },
    recipient: { id: 'r', birthDate: ADULT, policy: 'EVERYONE', verified: false },
    senderBan: null,
    relationship: { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: false },
    openConversationId: null,
    pendingFromSender: false,
    pendingFromRecipient: false,
    sentInWindow: 0,
    oldestInWindowAt: null,
    dailyLimit: 20,
    text: 'hello',
    ...over,
  };
}

const code = (input: EligibilityInput) => {
  const r = evaluateEligibility(input);
  return r.allowed ? 'ALLOWED' : r.code;
};

describe('eligibility rules, one at a time', () => {
  it.each<[string, Partial<EligibilityInput>, string]>([
    ['everything fine', {}, 'ALLOWED'],
    ['1 unauthenticated', { sender: null }, 'UNAUTHENTICATED'],
    ['2 recipient missing', { recipient: null }, 'NOT_FOUND'],
    ['3½ own policy NOBODY', { sender: { id: 's', birthDate: ADULT, policy: 'NOBODY' } }, 'OWN_MESSAGING_DISABLED'],
    ['3½ own policy FOLLOWING sends as usual', { sender: { id: 's', birthDate: ADULT, policy: 'FOLLOWING' } }, 'ALLOWED'],
    ['2 messaging oneself', { recipient: { id: 's', birthDate: ADULT, policy: 'EVERYONE', verified: false } }, 'CANNOT_MESSAGE_SELF'],
    ['3 banned for good', { senderBan: { until: null } }, 'MESSAGING_BANNED'],
    ['3 banned for a time', { senderBan: { until: new Date('2026-07-01T00:00:00Z') } }, 'MESSAGING_BANNED'],
    ['4 sender 15 (16 tomorrow)', { sender: { id: 's', birthDate: SIXTEEN_TOMORROW, policy: 'EVERYONE' } }, 'SENDER_UNDER_MINIMUM_AGE'],
    ['4 sender turns 16 today', { sender: { id: 's', birthDate: SIXTEEN_TODAY, policy: 'EVERYONE' } }, 'ALLOWED'],
    ['5 recipient 15', { recipient: { id: 'r', birthDate: SIXTEEN_TOMORROW, policy: 'EVERYONE', verified: false } }, 'RECIPIENT_UNAVAILABLE'],
    ['6 sender blocked recipient', { relationship: { aFollowsB: false, bFollowsA: false, aBlocksB: true, bBlocksA: false } }, 'RECIPIENT_UNAVAILABLE'],
    ['6 recipient blocked sender', { relationship: { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: true } }, 'RECIPIENT_UNAVAILABLE'],
    ['7 policy NOBODY (the generic answer of 5 and 6)', { recipient: { id: 'r', birthDate: ADULT, policy: 'NOBODY', verified: false } }, 'RECIPIENT_UNAVAILABLE'],
    ['8 FOLLOWING, not followed', { recipient: { id: 'r', birthDate: ADULT, policy: 'FOLLOWING', verified: false } }, 'NOT_FOLLOWED_BY_RECIPIENT'],
    [
      '8 FOLLOWING, followed',
      { recipient: { id: 'r', birthDate: ADULT, policy: 'FOLLOWING', verified: false }, relationship: { aFollowsB: false, bFollowsA: true, aBlocksB: false, bBlocksA: false } },
      'ALLOWED',
    ],
    [
      '8 FOLLOWING: the sender following the recipient does not count',
      { recipient: { id: 'r', birthDate: ADULT, policy: 'FOLLOWING', verified: false }, relationship: { aFollowsB: true, bFollowsA: false, aBlocksB: false, bBlocksA: false } },
      'NOT_FOLLOWED_BY_RECIPIENT',
    ],
    ['8 verified recipient, not followed', { recipient: { id: 'r', birthDate: ADULT, policy: 'EVERYONE', verified: true } }, 'NOT_FOLLOWED_BY_RECIPIENT'],
    ['9 open conversation', { openConversationId: 'c1' }, 'ALREADY_CONNECTED'],
    ['10 pending request', { pendingFromSender: true }, 'REQUEST_ALREADY_PENDING'],
    ['11 at the limit', { sentInWindow: 20, oldestInWindowAt: new Date(NOW.getTime() - 3_600_000) }, 'DAILY_REQUEST_LIMIT_REACHED'],
    ['11 one under the limit', { sentInWindow: 19 }, 'ALLOWED'],
    ['12 empty text', { text: '   ' }, 'BAD_USER_INPUT'],
    ['12 1001 characters', { text: 'x'.repeat(1001) }, 'BAD_USER_INPUT'],
    ['12 1000 emoji are 1000 characters', { text: '😀'.repeat(1000) }, 'ALLOWED'],
    ['12 NUL', { text: 'a\u0000b' }, 'BAD_USER_INPUT'],
    ['12 newline is fine', { text: 'a\nb' }, 'ALLOWED'],
    ['12 right-to-left mark is fine', { text: '\u200Fשלום' }, 'ALLOWED'],
  ])('%s → %s', (_name, over, expected) => {
    expect(code(base(over))).toBe(expected);
  });
});

describe('rule order', () => {
  // Each row breaks two rules; the earlier one must win.
  const all: Partial<EligibilityInput> = {
    senderBan: { until: null },
    sender: { id: 's', birthDate: SIXTEEN_TOMORROW, policy: 'NOBODY' },
    recipient: { id: 'r', birthDate: SIXTEEN_TOMORROW, policy: 'NOBODY', verified: true },
    relationship: { aFollowsB: false, bFollowsA: false, aBlocksB: true, bBlocksA: true },
    openConversationId: 'c1',
    pendingFromSender: true,
    sentInWindow: 99,
    text: '',
  };
  const order = [
    'MESSAGING_BANNED',
    'SENDER_UNDER_MINIMUM_AGE',
    'OWN_MESSAGING_DISABLED',
    'RECIPIENT_UNAVAILABLE', // minor recipient
    'RECIPIENT_UNAVAILABLE', // block
    'RECIPIENT_UNAVAILABLE', // messages off
    'NOT_FOLLOWED_BY_RECIPIENT',
    'ALREADY_CONNECTED',
    'REQUEST_ALREADY_PENDING',
    'DAILY_REQUEST_LIMIT_REACHED',
    'BAD_USER_INPUT',
  ];
  const fixes: Array<Partial<EligibilityInput>> = [
    { senderBan: null },
    { sender: { id: 's', birthDate: ADULT, policy: 'NOBODY' } },
    { sender: { id: 's', birthDate: ADULT, policy: 'EVERYONE' } },
    { recipient: { id: 'r', birthDate: ADULT, policy: 'NOBODY', verified: true } },
    { relationship: { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: false } },
    { recipient: { id: 'r', birthDate: ADULT, policy: 'EVERYONE', verified: true } },
    // Not by following (that makes the send direct, past rules 8 and 10): by not being verified.
    { recipient: { id: 'r', birthDate: ADULT, policy: 'EVERYONE', verified: false } },
    { openConversationId: null },
    { pendingFromSender: false },
    { sentInWindow: 0 },
    { text: 'ok' },
  ];

  it('reports the first broken rule, then the next once that one is fixed', () => {
    let input = base(all);
    for (let i = 0; i < order.length; i++) {
      expect(code(input)).toBe(order[i]);
      input = { ...input, ...fixes[i] };
    }
    expect(code(input)).toBe('ALLOWED');
  });
});

describe('details', () => {
  it('gives retryAfter from the oldest request in the window', () => {
    const r = evaluateEligibility(base({ sentInWindow: 20, oldestInWindowAt: new Date(NOW.getTime() - 23 * 3_600_000) }));
    expect(r).toMatchObject({ allowed: false, extensions: { retryAfter: 3600 } });
  });

  it('names the open conversation and the ban end', () => {
    expect(evaluateEligibility(base({ openConversationId: 'c9' }))).toMatchObject({ extensions: { conversationId: 'c9' } });
    expect(evaluateEligibility(base({ senderBan: { until: new Date('2026-07-01T00:00:00Z') } }))).toMatchObject({
      extensions: { until: '2026-07-01T00:00:00.000Z' },
    });
  });

  it('uses the spec wording for NOT_FOLLOWED_BY_RECIPIENT', () => {
    const r = evaluateEligibility(base({ recipient: { id: 'r', birthDate: ADULT, policy: 'FOLLOWING', verified: false } }));
    expect(r).toMatchObject({ message: "Messages cannot be sent since this user isn't following you." });
  });

  it('lets a crossing request through even when follow rules would stop it, but not a block or NOBODY', () => {
    const following = { id: 'r', birthDate: ADULT, policy: 'FOLLOWING' as const, verified: false };
    expect(evaluateEligibility(base({ recipient: following, pendingFromRecipient: true }))).toEqual({ allowed: true, path: 'CROSSING' });
    expect(code(base({ pendingFromRecipient: true, relationship: { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: true } }))).toBe(
      'RECIPIENT_UNAVAILABLE',
    );
    expect(code(base({ pendingFromRecipient: true, recipient: { ...following, policy: 'NOBODY' } }))).toBe('RECIPIENT_UNAVAILABLE');
  });

  it('the minor, blocked and messages-off recipients give the very same answer (SPEC §8: no oracle)', () => {
    const minor = evaluateEligibility(base({ recipient: { id: 'r', birthDate: SIXTEEN_TOMORROW, policy: 'EVERYONE', verified: false } }));
    // A 16th birthday changes nothing: 16–17 start with NOBODY.
    const sixteenToday = evaluateEligibility(base({ recipient: { id: 'r', birthDate: SIXTEEN_TODAY, policy: 'NOBODY', verified: false } }));
    const blocked = evaluateEligibility(base({ relationship: { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: true } }));
    const off = evaluateEligibility(base({ recipient: { id: 'r', birthDate: ADULT, policy: 'NOBODY', verified: false } }));
    expect(minor).toEqual(blocked);
    expect(sixteenToday).toEqual(blocked);
    expect(off).toEqual(blocked);
  });
});

describe('followed senders skip the Requests folder (SPEC §2)', () => {
  const followed = { aFollowsB: false, bFollowsA: true, aBlocksB: false, bBlocksA: false };
  const path = (input: EligibilityInput) => {
    const r = evaluateEligibility(input);
    return r.allowed ? r.path : r.code;
  };
  it.each<[string, Partial<EligibilityInput>, string]>([
    ['a stranger sends a request', {}, 'REQUEST'],
    ['the recipient follows the sender', { relationship: followed }, 'DIRECT'],
    ['FOLLOWING policy, followed', { relationship: followed, recipient: { id: 'r', birthDate: ADULT, policy: 'FOLLOWING', verified: false } }, 'DIRECT'],
    ['verified recipient, followed', { relationship: followed, recipient: { id: 'r', birthDate: ADULT, policy: 'EVERYONE', verified: true } }, 'DIRECT'],
    ['the sender following the recipient is not enough', { relationship: { ...followed, aFollowsB: true, bFollowsA: false } }, 'REQUEST'],
    ['a pending request of the sender is taken along', { relationship: followed, pendingFromSender: true }, 'DIRECT'],
    ['their request to the sender: crossing wins', { relationship: followed, pendingFromRecipient: true }, 'CROSSING'],
    ['still an open conversation', { relationship: followed, openConversationId: 'c' }, 'ALREADY_CONNECTED'],
    ['still the daily limit', { relationship: followed, sentInWindow: 20 }, 'DAILY_REQUEST_LIMIT_REACHED'],
    ['still the text', { relationship: followed, text: '' }, 'BAD_USER_INPUT'],
    ['still a block', { relationship: { ...followed, bBlocksA: true } }, 'RECIPIENT_UNAVAILABLE'],
    ['still NOBODY', { relationship: followed, recipient: { id: 'r', birthDate: ADULT, policy: 'NOBODY', verified: false } }, 'RECIPIENT_UNAVAILABLE'],
    ['still the minimum age', { relationship: followed, recipient: { id: 'r', birthDate: SIXTEEN_TOMORROW, policy: 'EVERYONE', verified: false } }, 'RECIPIENT_UNAVAILABLE'],
    ['still a ban', { relationship: followed, senderBan: { until: null } }, 'MESSAGING_BANNED'],
    ['still the own policy', { relationship: followed, sender: { id: 's', birthDate: ADULT, policy: 'NOBODY' } }, 'OWN_MESSAGING_DISABLED'],
  ])('%s → %s', (_name, over, expected) => {
    expect(path(base(over))).toBe(expected);
  });
});

describe('message button', () => {
  it.each<[string, Partial<EligibilityInput>, string]>([
    ['allowed', {}, 'SEND_REQUEST'],
    ['the recipient follows the viewer', { relationship: { aFollowsB: false, bFollowsA: true, aBlocksB: false, bBlocksA: false } }, 'MESSAGE'],
    ['own messages off', { sender: { id: 's', birthDate: ADULT, policy: 'NOBODY' } }, 'UNAVAILABLE'],
    ['open conversation', { openConversationId: 'c' }, 'MESSAGE'],
    ['open conversation, FOLLOWING, not followed', { openConversationId: 'c', recipient: { id: 'r', birthDate: ADULT, policy: 'FOLLOWING', verified: false } }, 'MESSAGE'],
    ['open conversation, NOBODY', { openConversationId: 'c', recipient: { id: 'r', birthDate: ADULT, policy: 'NOBODY', verified: false } }, 'UNAVAILABLE'],
    ['pending', { pendingFromSender: true }, 'REQUEST_PENDING'],
    ['blocked', { relationship: { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: true } }, 'UNAVAILABLE'],
    ['limit reached', { sentInWindow: 20 }, 'UNAVAILABLE'],
  ])('%s → %s', (_name, over, state) => {
    const input = base({ ...over, text: undefined });
    expect(messageButtonFor(evaluateEligibility(input), input.openConversationId).state).toBe(state);
  });
});
