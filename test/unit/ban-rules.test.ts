import { countsTowardAutoBan, type ReportFacts } from '../../src/modules/moderation/ban-rules';

const HOUR = 3_600_000;
const now = new Date('2026-12-05T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * HOUR);
const facts = (over: Partial<ReportFacts> = {}): ReportFacts => ({
  reportedAt: now,
  reporterCreatedAt: hoursAgo(24 * 30),
  contacted: true,
  newAccountHours: 72,
  ...over,
});

describe('whether a report counts toward the automatic ban (SPEC §8)', () => {
  it.each<[string, Partial<ReportFacts>, boolean]>([
    ['an established reporter the reported account contacted', {}, true],
    ['an established reporter it never contacted', { contacted: false }, false],
    ['a new account it contacted', { reporterCreatedAt: hoursAgo(1) }, false],
    ['a new account it never contacted', { reporterCreatedAt: hoursAgo(1), contacted: false }, false],
    ['a reporter one millisecond short of NEW_ACCOUNT_HOURS', { reporterCreatedAt: new Date(now.getTime() - 72 * HOUR + 1) }, false],
    ['a reporter exactly NEW_ACCOUNT_HOURS old', { reporterCreatedAt: hoursAgo(72) }, true],
    ['a brand-new reporter when NEW_ACCOUNT_HOURS is 0 (rule off)', { reporterCreatedAt: now, newAccountHours: 0 }, true],
    ['a brand-new reporter when NEW_ACCOUNT_HOURS is 0, never contacted', { reporterCreatedAt: now, newAccountHours: 0, contacted: false }, false],
  ])('%s → %s', (_name, over, counts) => {
    expect(countsTowardAutoBan(facts(over))).toBe(counts);
  });
});
