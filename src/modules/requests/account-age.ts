import { DAY_MS } from '../../lib/clock';
import { isNewAccount } from './hidden-reason';

/**
 * The sender's account age as "why am I seeing this" shows it: a bucket, not a date, so a
 * stranger's exact sign-up time is not handed to everyone it writes to. NEW is the same
 * threshold that hides requests (NEW_ACCOUNT_HOURS); the others are calendar-sized.
 */
export type AccountAgeBucket = 'NEW' | 'LESS_THAN_A_MONTH' | 'LESS_THAN_A_YEAR' | 'OVER_A_YEAR';

export function accountAgeBucket(createdAt: Date, now: Date, newAccountHours: number): AccountAgeBucket {
  if (isNewAccount(createdAt, now, newAccountHours)) return 'NEW';
  const age = now.getTime() - createdAt.getTime();
  if (age < 30 * DAY_MS) return 'LESS_THAN_A_MONTH';
  if (age < 365 * DAY_MS) return 'LESS_THAN_A_YEAR';
  return 'OVER_A_YEAR';
}
