import { accountAgeBucket, type AccountAgeBucket } from '../../src/modules/requests/account-age';
import { hiddenReasonFor, type HiddenReason } from '../../src/modules/requests/hidden-reason';

const NOW = new Date('2026-06-15T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);

describe('why a request is hidden (the first rule that applies)', () => {
  it.each<[string, number, string, boolean, HiddenReason | null]>([
    ['an established account, plain text', 24 * 30, 'hello', false, null],
    ['an account younger than the threshold', 23, 'hello', false, 'NEW_ACCOUNT'],
    ['an account exactly at the threshold', 24, 'hello', false, null],
    ['a link in the text', 24 * 30, 'see https://example.com', false, 'LINK'],
    ['a bare domain with a path', 24 * 30, 'win at spam.de/win', false, 'LINK'],
    ['a hidden word', 24 * 30, 'hello', true, 'HIDDEN_WORD'],
    ['a new account with a link: the account is named', 1, 'goo.gl/abc', true, 'NEW_ACCOUNT'],
    ['a link and a hidden word: the link is named', 24 * 30, '1.2.3.4', true, 'LINK'],
  ])('%s → %s', (_name, ageHours, text, hiddenWordMatch, reason) => {
    expect(hiddenReasonFor({ now: NOW, senderCreatedAt: hoursAgo(ageHours), newAccountHours: 24, text, hiddenWordMatch })).toBe(reason);
  });

  it('NEW_ACCOUNT_HOURS=0 turns the account rule off, not the link rule', () => {
    expect(hiddenReasonFor({ now: NOW, senderCreatedAt: NOW, newAccountHours: 0, text: 'hi', hiddenWordMatch: false })).toBeNull();
    expect(hiddenReasonFor({ now: NOW, senderCreatedAt: NOW, newAccountHours: 0, text: 'example.com', hiddenWordMatch: false })).toBe('LINK');
  });
});

describe('the sender’s account age bucket', () => {
  it.each<[number, number, AccountAgeBucket]>([
    [1, 72, 'NEW'],
    [71.9, 72, 'NEW'],
    [72, 72, 'LESS_THAN_A_MONTH'],
    [1, 0, 'LESS_THAN_A_MONTH'],
    [24 * 30 - 1, 72, 'LESS_THAN_A_MONTH'],
    [24 * 30, 72, 'LESS_THAN_A_YEAR'],
    [24 * 365 - 1, 72, 'LESS_THAN_A_YEAR'],
    [24 * 365, 72, 'OVER_A_YEAR'],
    [24 * 40, 24 * 60, 'NEW'],
  ])('%s hours old with NEW_ACCOUNT_HOURS=%s → %s', (ageHours, newAccountHours, bucket) => {
    expect(accountAgeBucket(hoursAgo(ageHours), NOW, newAccountHours)).toBe(bucket);
  });
});
