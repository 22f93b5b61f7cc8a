import type { EntityManager } from 'typeorm';
import { prepared } from '../../db/prepared';
import { DAY_MS } from '../../lib/clock';
import { ConversationStatus } from '../conversations/conversation.entity';
import { activeBanJoinSql } from '../moderation/bans.service';
import { relationshipFrom } from '../relationships/follow-visibility';
import type { DirectMessagePolicy, EligibilityInput } from './eligibility';

/** The sender as the rules read it (EligibilityInput['sender']). */
export type FactsSender = { id: string; birthDate: string; policy: DirectMessagePolicy };

/** What a request looks like between two accounts, as the rules need it. */
export interface PairState {
  /** The pair's conversation in any state (a request before this one leaves it behind). */
  conversationId: string | null;
  openConversationId: string | null;
  /** A live pending request from the sender. */
  pendingFromSender: boolean;
  /** A pending request from the sender past its expiry, still holding the pair's slot. */
  expiredFromSender: boolean;
  /**
   * The recipient's live pending request to the sender, deleted by the sender or not:
   * what the recipient sees never depends on a delete (SPEC §2), so a send crosses it.
   */
  pendingFromRecipientId: string | null;
  /**
   * The recipient deleted a request of the sender's that has not yet aged out: a new
   * request is accepted for the sender but stays out of the recipient's folder (SPEC §8).
   */
  silenced: boolean;
}

export interface SendFactsRow {
  recipient_id: string | null;
  recipient_birth_date: string | null;
  recipient_policy: 'EVERYONE' | 'FOLLOWING' | 'NOBODY' | null;
  recipient_verified: boolean | null;
  a_follows_b: boolean;
  b_follows_a: boolean;
  a_blocks_b: boolean;
  b_blocks_a: boolean;
  banned: boolean;
  ban_until: Date | null;
  conversation_id: string | null;
  conversation_status: ConversationStatus | null;
  pending_from_sender: boolean;
  expired_from_sender: boolean;
  pending_from_recipient_id: string | null;
  silenced: boolean;
  sent_in_window: number;
  oldest_in_window: Date | null;
  repeated: boolean;
  /** Null unless the text is checked ($6), or when the list is empty. */
  recipient_hidden_words: string[] | null;
  recipient_hides_offensive: boolean | null;
}

/** The recipient's hidden words (SPEC §8), read with the send's facts. */
export interface RecipientHiddenWords {
  phrases: string[];
  builtIn: boolean;
}

/**
 * The facts of SPEC §2 for sender $1 and each recipient of $2 (an array, answered in its
 * order: a send asks about one account, a page of Message buttons about each profile on
 * it) at time $3 ($4 = a day earlier; $5 = the clientMessageId, if any; $6 = whether a
 * text will be checked against the recipient's hidden words) in one round
 * trip: a request is the busiest write after a message and runs under two locks, so
 * every statement there is time others wait. Each line is the question the
 * relationships, bans, conversations and requests code would ask on its own; the
 * indexes serve each one.
 */
const SEND_FACTS = `
  SELECT r.id AS recipient_id, r.birth_date AS recipient_birth_date, r.dm_policy AS recipient_policy, r.verified AS recipient_verified,
         EXISTS (SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = r.id) AS a_follows_b,
         EXISTS (SELECT 1 FROM follows WHERE follower_id = r.id AND followee_id = $1) AS b_follows_a,
         EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = r.id) AS a_blocks_b,
         EXISTS (SELECT 1 FROM blocks WHERE blocker_id = r.id AND blocked_id = $1) AS b_blocks_a,
         ban.banned IS NOT NULL AS banned, ban.until AS ban_until,
         c.id AS conversation_id, c.status AS conversation_status,
         EXISTS (SELECT 1 FROM message_requests
                  WHERE sender_id = $1 AND recipient_id = r.id AND status = 'PENDING' AND expires_at > $3) AS pending_from_sender,
         EXISTS (SELECT 1 FROM message_requests
                  WHERE sender_id = $1 AND recipient_id = r.id AND status = 'PENDING' AND expires_at <= $3) AS expired_from_sender,
         (SELECT id FROM message_requests
           WHERE sender_id = r.id AND recipient_id = $1 AND status = 'PENDING' AND expires_at > $3
           LIMIT 1) AS pending_from_recipient_id,
         EXISTS (SELECT 1 FROM message_requests
                  WHERE sender_id = $1 AND recipient_id = r.id AND deleted_at IS NOT NULL AND status <> 'ACCEPTED' AND expires_at > $3) AS silenced,
         w.sent AS sent_in_window, w.oldest AS oldest_in_window,
         ($5::text IS NOT NULL AND (EXISTS (SELECT 1 FROM message_requests WHERE sender_id = $1 AND client_message_id = $5)
                                    OR EXISTS (SELECT 1 FROM messages WHERE sender_id = $1 AND client_message_id = $5))) AS repeated,
         CASE WHEN $6::boolean THEN (SELECT array_agg(normalised) FROM hidden_words WHERE user_id = r.id) END AS recipient_hidden_words,
         r.hide_offensive_requests AS recipient_hides_offensive
    FROM unnest($2::uuid[]) WITH ORDINALITY AS wanted(id, i)
    LEFT JOIN users r ON r.id = wanted.id
    LEFT JOIN conversations c ON c.user_low_id = LEAST($1::uuid, r.id) AND c.user_high_id = GREATEST($1::uuid, r.id)
    ${activeBanJoinSql('$1', '$3')}
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS sent, min(created_at) AS oldest FROM message_requests WHERE sender_id = $1 AND created_at > $4
    ) w
   ORDER BY wanted.i`;

/** What a send, or a Message button, knows about one recipient. */
export interface SendFacts {
  input: EligibilityInput;
  pair: PairState;
  /** The sender already used this clientMessageId. */
  repeated: boolean;
  hiddenWords: RecipientHiddenWords;
}

/**
 * Everything the rules look at about each of `recipientIds` (null: the argument was not an
 * id at all), in their order, in one statement (SEND_FACTS), read in the caller's
 * transaction or outside one for the Message buttons.
 */
export async function gatherFactsFor(
  manager: EntityManager,
  dailyLimit: number,
  sender: FactsSender,
  recipientIds: ReadonlyArray<string | null>,
  now: Date,
  text?: string,
  clientMessageId: string | null = null,
): Promise<SendFacts[]> {
  const rows = await readFacts(manager, sender.id, recipientIds, now, text !== undefined, clientMessageId);
  return rows.map((row) => factsOf(row, sender, dailyLimit, now, text));
}

/** SEND_FACTS' rows, one per recipient in `recipientIds`' order; `checksText`: read the recipients' hidden words. */
export async function readFacts(
  manager: EntityManager,
  senderId: string,
  recipientIds: ReadonlyArray<string | null>,
  now: Date,
  checksText: boolean,
  clientMessageId: string | null,
): Promise<SendFactsRow[]> {
  const params = [senderId, recipientIds, now, new Date(now.getTime() - DAY_MS), clientMessageId, checksText];
  return (await prepared<SendFactsRow>(manager, 'requests.send-facts', SEND_FACTS, params)).rows;
}

/** One SEND_FACTS row as the rules read it, for `sender` (the row's $1) writing `text`. */
export function factsOf(f: SendFactsRow, sender: FactsSender, dailyLimit: number, now: Date, text?: string): SendFacts {
  const pair: PairState = {
    conversationId: f.conversation_id,
    openConversationId: f.conversation_status === ConversationStatus.OPEN ? f.conversation_id : null,
    pendingFromSender: f.pending_from_sender,
    expiredFromSender: f.expired_from_sender,
    pendingFromRecipientId: f.pending_from_recipient_id,
    silenced: f.silenced,
  };
  return {
    pair,
    repeated: f.repeated,
    hiddenWords: { phrases: f.recipient_hidden_words ?? [], builtIn: f.recipient_hides_offensive ?? false },
    input: {
      now,
      sender,
      recipient: f.recipient_id === null ? null : { id: f.recipient_id, birthDate: f.recipient_birth_date!, policy: f.recipient_policy!, verified: f.recipient_verified! },
      senderBan: f.banned ? { until: f.ban_until } : null,
      // A follow made across a block counts for no rule (follow-visibility.ts).
      relationship: relationshipFrom({ aFollowsB: f.a_follows_b, bFollowsA: f.b_follows_a, aBlocksB: f.a_blocks_b, bBlocksA: f.b_blocks_a }),
      openConversationId: pair.openConversationId,
      pendingFromSender: pair.pendingFromSender,
      pendingFromRecipient: pair.pendingFromRecipientId !== null,
      sentInWindow: f.sent_in_window,
      oldestInWindowAt: f.oldest_in_window,
      dailyLimit,
      text,
    },
  };
}
