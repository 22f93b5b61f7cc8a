import { HOUR_MS } from '../../lib/clock';

/**
 * A "new account" (SPEC §2, §8): younger than `newAccountHours` at `at`. 0 turns the rule
 * off. Its requests go to hidden requests, and its reports do not count toward an
 * automatic messaging ban.
 */
export function isNewAccount(createdAt: Date, at: Date, newAccountHours: number): boolean {
  return at.getTime() - createdAt.getTime() < newAccountHours * HOUR_MS;
}
