import { HOUR_MS } from '../../lib/clock';
import { containsLink } from '../../lib/links';

/**
 * Why a request went to hidden requests (SPEC §2, §8), decided once at send time and
 * stored with it (message_requests.hidden_reason), so "why am I seeing this" tells the
 * recipient what the filter saw then, not what it would say today.
 */
export type HiddenReason = 'NEW_ACCOUNT' | 'LINK' | 'HIDDEN_WORD';

/** Younger than `newAccountHours` at `now` (0 turns the rule off). */
export function isNewAccount(createdAt: Date, now: Date, newAccountHours: number): boolean {
  return now.getTime() - createdAt.getTime() < newAccountHours * HOUR_MS;
}

/**
 * The first rule that applies, in this order, or null for the main folder. The order only
 * decides what the recipient is told: any one reason is enough to hide the request.
 */
export function hiddenReasonFor(input: {
  now: Date;
  senderCreatedAt: Date;
  newAccountHours: number;
  text: string;
  /** The recipient's hidden words (or the built-in list) match the text. */
  hiddenWordMatch: boolean;
}): HiddenReason | null {
  if (isNewAccount(input.senderCreatedAt, input.now, input.newAccountHours)) return 'NEW_ACCOUNT';
  if (containsLink(input.text)) return 'LINK';
  if (input.hiddenWordMatch) return 'HIDDEN_WORD';
  return null;
}
