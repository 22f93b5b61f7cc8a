import { MIN_MESSAGING_AGE, ageAt } from '../../lib/age';
import { checkMessageText } from '../../lib/text';
import type { ErrorCode } from '../../graphql/errors';
import { messagingBannedDenial } from '../moderation/ban-rules';

/**
 * SPEC §2 as one pure function, in the spec's order. Both `sendMessageRequest` and
 * `User.messageButton` call it, so the button never says yes where the send says no.
 */
export const MAX_REQUEST_TEXT = 1000;

export interface EligibilityInput {
  now: Date;
  /** Null when not signed in. `policy`: the sender's own setting (NOBODY turns messaging off both ways). */
  sender: { id: string; birthDate: string; policy: DirectMessagePolicy } | null;
  /** Null when the recipient does not exist. */
  recipient: { id: string; birthDate: string; policy: DirectMessagePolicy; verified: boolean } | null;
  senderBan: { until: Date | null } | null;
  /** Sender's relationship to recipient: a = sender, b = recipient. */
  relationship: { aFollowsB: boolean; bFollowsA: boolean; aBlocksB: boolean; bBlocksA: boolean };
  openConversationId: string | null;
  pendingFromSender: boolean;
  pendingFromRecipient: boolean;
  /** Requests the sender sent in the last 24 hours, and when the oldest of them was sent. */
  sentInWindow: number;
  oldestInWindowAt: Date | null;
  dailyLimit: number;
  /** Undefined when only asking whether a send would be allowed (the Message button). */
  text?: string;
}

export type DirectMessagePolicy = 'EVERYONE' | 'FOLLOWING' | 'NOBODY';

/**
 * How an allowed send reaches the recipient:
 * - REQUEST: a pending request in their Requests folder;
 * - CROSSING: they already asked the sender, so the send accepts their request;
 * - DIRECT: they follow the sender, so the send opens the conversation at once (SPEC §2:
 *   "a request is needed only to reach someone who does not follow you").
 */
export type SendPath = 'REQUEST' | 'CROSSING' | 'DIRECT';

export type Eligibility =
  | { allowed: true; path: SendPath }
  | { allowed: false; code: ErrorCode; message: string; extensions: Record<string, unknown> };

const deny = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): Eligibility => ({
  allowed: false,
  code,
  message,
  extensions,
});

export const DAY_SECONDS = 86_400;

export function evaluateEligibility(input: EligibilityInput): Eligibility {
  const { sender, recipient, relationship: rel, now } = input;
  // 1. authenticated
  if (!sender) return deny('UNAUTHENTICATED', 'Sign in to send messages');
  // 2. recipient exists and is not the sender
  if (!recipient) return deny('NOT_FOUND', 'User not found');
  if (recipient.id === sender.id) return deny('CANNOT_MESSAGE_SELF', "You can't send a message request to yourself");
  // 3. sender not banned from messaging
  if (input.senderBan) {
    const denial = messagingBannedDenial(input.senderBan);
    return deny(denial.code, denial.message, denial.extensions);
  }
  // 4. sender is 16 or older
  if (ageAt(sender.birthDate, now) < MIN_MESSAGING_AGE) {
    return deny('SENDER_UNDER_MINIMUM_AGE', `Direct messages are unavailable to accounts under ${MIN_MESSAGING_AGE}`);
  }
  // Messaging off is off both ways (SPEC §1): no one is left writing into a conversation
  // that cannot answer. About the sender's own setting only, so it reveals nothing.
  if (sender.policy === 'NOBODY') {
    return deny('OWN_MESSAGING_DISABLED', 'Turn messages on in your settings to send messages');
  }
  // 5, 6 and 7 share one generic answer (SPEC §8): a minor's age, who blocked whom and a
  // recipient's "messages off" must not be told apart, or checking daily would reveal a
  // 16th birthday (under 16, then NOBODY by default) or a block.
  if (isUnreachable(recipient, rel, now)) return unavailable();
  // Crossing requests: the recipient already asked the sender, so sending accepts that
  // request. The recipient chose to talk to the sender, so follow rules don't apply.
  const crossing = input.pendingFromRecipient && !input.openConversationId;
  // The recipient follows the sender: no request needed (the seed's rule), so rules 8 and
  // 10 have nothing to ask (a pending request of the sender's is taken along by the send).
  const direct = !crossing && rel.bFollowsA;
  if (!crossing) {
    // 8. FOLLOWING policy, or a verified recipient: the recipient must follow the sender
    if (!direct && (recipient.policy === 'FOLLOWING' || recipient.verified)) {
      return deny('NOT_FOLLOWED_BY_RECIPIENT', "Messages cannot be sent since this user isn't following you.");
    }
    // 9. no open conversation
    if (input.openConversationId) {
      return deny('ALREADY_CONNECTED', 'You already have a conversation with this user; use sendMessage', {
        conversationId: input.openConversationId,
      });
    }
    // 10. no pending request from sender to recipient
    if (!direct && input.pendingFromSender) return deny('REQUEST_ALREADY_PENDING', 'You already have a pending request to this user');
    // 11. rolling 24-hour limit (a direct send counts too: docs/decisions.md)
    if (input.sentInWindow >= input.dailyLimit) {
      const oldest = input.oldestInWindowAt ?? now;
      const retryAfter = Math.max(1, Math.ceil((oldest.getTime() + DAY_SECONDS * 1000 - now.getTime()) / 1000));
      return deny('DAILY_REQUEST_LIMIT_REACHED', `You can send ${input.dailyLimit} message requests a day; try again later`, { retryAfter });
    }
  }
  // 12. text
  if (input.text !== undefined) {
    const problem = checkMessageText(input.text, MAX_REQUEST_TEXT);
    if (problem === 'EMPTY') return deny('BAD_USER_INPUT', 'Message text cannot be empty', { field: 'text' });
    if (problem === 'TOO_LONG') return deny('BAD_USER_INPUT', `Message text is limited to ${MAX_REQUEST_TEXT} characters`, { field: 'text' });
    if (problem === 'CONTROL_CHARACTER') return deny('BAD_USER_INPUT', 'Message text contains control characters', { field: 'text' });
  }
  return { allowed: true, path: crossing ? 'CROSSING' : direct ? 'DIRECT' : 'REQUEST' };
}

/** The generic refusal of rules 5–7: the same code and words whichever of them applies. */
export const UNAVAILABLE_MESSAGE = "You can't message this account";
const unavailable = () => deny('RECIPIENT_UNAVAILABLE', UNAVAILABLE_MESSAGE);

/** Rules 5–7: under 16, a block either way, or messages off. */
function isUnreachable(recipient: { birthDate: string; policy: DirectMessagePolicy }, rel: EligibilityInput['relationship'], now: Date): boolean {
  return ageAt(recipient.birthDate, now) < MIN_MESSAGING_AGE || rel.aBlocksB || rel.bBlocksA || recipient.policy === 'NOBODY';
}

export type MessageButtonState = 'MESSAGE' | 'SEND_REQUEST' | 'REQUEST_PENDING' | 'UNAVAILABLE';

/**
 * What the Message button on a profile does, from the same evaluation as a send. With an
 * open conversation the button opens it (sendMessage ignores follows), unless an earlier
 * rule (ban, age, block, NOBODY) also stops sendMessage.
 */
export function messageButtonFor(
  result: Eligibility,
  openConversationId: string | null,
): { state: MessageButtonState; reason: string | null; explanation: string | null } {
  if (!result.allowed && openConversationId && (result.code === 'NOT_FOLLOWED_BY_RECIPIENT' || result.code === 'ALREADY_CONNECTED')) {
    return { state: 'MESSAGE', reason: null, explanation: null };
  }
  if (result.allowed) {
    if (result.path === 'DIRECT') return { state: 'MESSAGE', reason: null, explanation: null };
    return result.path === 'CROSSING'
      ? { state: 'SEND_REQUEST', reason: null, explanation: 'This user already sent you a request; sending accepts it' }
      : { state: 'SEND_REQUEST', reason: null, explanation: null };
  }
  if (result.code === 'REQUEST_ALREADY_PENDING') return { state: 'REQUEST_PENDING', reason: result.code, explanation: result.message };
  return { state: 'UNAVAILABLE', reason: result.code, explanation: result.message };
}
