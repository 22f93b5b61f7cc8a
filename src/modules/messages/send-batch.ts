import { prepared } from '../../db/prepared';
import type { Tx } from '../../db/transaction';
import { AppError } from '../../graphql/errors';
import type { UserEvent } from '../../graphql/pubsub';
import { EventType, eventLogCtesOver } from '../notifications/events.service';
import type { Message } from './message.entity';
import { messageFromRow, toPosted } from './message-rows';
import { MessagesService, type MessageReceivedPayload } from './messages.service';
import { RATE_KEY_PREFIX, decideSendBatch, type BatchSql, type QueuedSend, type RateWindow, type RawBatch } from './send-batch-core';

export { BatchVerdictMismatch, type QueuedSend, type RateWindow } from './send-batch-core';

/**
 * What one send of a batch comes to: answered (the message, or a refusal), or `later`: sent
 * by the single path after the batch commits (a conversation still a request, a second
 * send under one key in the same batch) with its rate-limit attempt already counted here.
 */
export type BatchOutcome = { message: Message } | { error: AppError } | { later: true };

/**
 * Statement 1 of a batch, after BEGIN: the pairs' locks, in one global order (their keys
 * sorted: two batches, or a batch and blockUser/accept, never wait on each other in a
 * cycle), then every send counted against its sender's rate limit (the rows that
 * rate-limiter-flexible keeps for the single path: the same limit, one table), then
 * the conversations as they are. The attempts wait for the locks (`locked` is read first).
 */
const LOCK_AND_COUNT = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS x(conversation_id, sender_id)
  ), convs AS (
    SELECT DISTINCT c.id, c.status, c.user_low_id, c.user_high_id
      FROM conversations c JOIN input ON input.conversation_id = c.id AND input.sender_id IN (c.user_low_id, c.user_high_id)
  ), locked AS (
    SELECT count(pg_advisory_xact_lock(k)) AS n
      FROM (SELECT DISTINCT hashtextextended('pair:' || user_low_id || ',' || user_high_id, 0) AS k FROM convs ORDER BY 1) keys
  ), attempts AS (
    INSERT INTO rate_limits AS r (key, points, expire)
    SELECT '${RATE_KEY_PREFIX}' || sender_id, count(*)::int, $3::bigint + $4::bigint FROM input CROSS JOIN locked GROUP BY sender_id ORDER BY sender_id
    ON CONFLICT (key) DO UPDATE SET
      points = CASE WHEN r.expire <= $3 THEN EXCLUDED.points ELSE r.points + EXCLUDED.points END,
      expire = CASE WHEN r.expire <= $3 THEN EXCLUDED.expire ELSE r.expire END
    RETURNING key, points, expire
  )
  SELECT (SELECT n FROM locked) AS locked,
         (SELECT coalesce(json_agg(json_build_object('id', id, 'status', status, 'low', user_low_id, 'high', user_high_id)), '[]') FROM convs) AS conversations,
         (SELECT coalesce(json_agg(json_build_object('key', key, 'points', points, 'expire', expire)), '[]') FROM attempts) AS attempts`;

/**
 * Statement 2, under the locks: each send's rule facts, and for those the rules allow (the
 * same order as message-rules' evaluateSendMessage, re-checked in JS before COMMIT) the
 * append: seqs consecutive per conversation in batch order, the conversations and both
 * members moved, and the events written to each account's log, numbered from its counter
 * (eventLogCtesOver: counters last, accounts in id order). A repeated key appends nothing
 * and answers the message already sent under it.
 *
 * $1 positions, $2 new ids, $3 conversations, $4 senders, $5 recipients, $6 texts, $7 keys,
 * $8 replied-to ids, $9 now.
 */
const FACTS_AND_APPEND = `
  WITH input AS (
    SELECT * FROM unnest($1::int[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::uuid[])
      AS x(i, id, conversation_id, sender_id, recipient_id, text, key, reply_to)
  ), facts AS (
    SELECT input.*, c.status = 'OPEN' AS open,
           rp.dm_policy AS recipient_policy, sp.dm_policy AS sender_policy,
           ban.until AS ban_until, ban.banned IS NOT NULL AS banned,
           EXISTS (SELECT 1 FROM blocks WHERE blocker_id = input.sender_id AND blocked_id = input.recipient_id) AS a_blocks_b,
           EXISTS (SELECT 1 FROM blocks WHERE blocker_id = input.recipient_id AND blocked_id = input.sender_id) AS b_blocks_a,
           (input.reply_to IS NULL OR EXISTS (
              SELECT 1 FROM messages r WHERE r.id = input.reply_to AND r.conversation_id = input.conversation_id
                 AND r.unsent_at IS NULL AND r.hidden_for IS DISTINCT FROM input.sender_id)) AS reply_found,
           prior.row AS prior,
           sm.in_inbox AS sender_in_inbox
      FROM input
      JOIN conversations c ON c.id = input.conversation_id
      LEFT JOIN users rp ON rp.id = input.recipient_id
      LEFT JOIN users sp ON sp.id = input.sender_id
      LEFT JOIN conversation_members sm ON sm.conversation_id = input.conversation_id AND sm.user_id = input.sender_id
      LEFT JOIN LATERAL (
        SELECT until, true AS banned FROM messaging_bans
         WHERE user_id = input.sender_id AND (until IS NULL OR until > $9)
         ORDER BY until DESC NULLS FIRST LIMIT 1
      ) ban ON true
      LEFT JOIN LATERAL (
        SELECT to_jsonb(m) AS row FROM messages m WHERE m.sender_id = input.sender_id AND m.client_message_id = input.key
      ) prior ON input.key IS NOT NULL
  ), allowed AS (
    SELECT facts.*,
           row_number() OVER (PARTITION BY conversation_id ORDER BY i) AS rank,
           count(*) OVER (PARTITION BY conversation_id) AS n,
           row_number() OVER (PARTITION BY conversation_id, sender_id ORDER BY i) AS senders_nth
      FROM facts
     WHERE prior IS NULL AND NOT banned AND sender_policy IS DISTINCT FROM 'NOBODY'
       AND NOT a_blocks_b AND NOT b_blocks_a AND recipient_policy IS NOT NULL AND recipient_policy <> 'NOBODY'
       AND open AND reply_found
  ), conv AS (
    UPDATE conversations c SET last_seq = c.last_seq + a.n, last_message_at = $9, last_message_id = a.last_id
      FROM (SELECT conversation_id, max(n) AS n, (array_agg(id ORDER BY i DESC))[1] AS last_id FROM allowed GROUP BY conversation_id) a
     WHERE c.id = a.conversation_id
    RETURNING c.id, c.last_seq, c.status
  ), msg AS (
    INSERT INTO messages (id, conversation_id, seq, sender_id, text, client_message_id, created_at, reply_to_id)
    SELECT a.id, a.conversation_id, conv.last_seq - a.n + a.rank, a.sender_id, a.text, a.key, $9, a.reply_to
      FROM allowed a JOIN conv ON conv.id = a.conversation_id
    RETURNING id, seq
  ), members AS (
    UPDATE conversation_members m SET activity_at = $9, in_inbox = (conv.status = 'OPEN') OR m.in_inbox
      FROM conv WHERE m.conversation_id = conv.id AND EXISTS (SELECT 1 FROM msg)
    RETURNING 1
  ), ev_src AS (
    SELECT e.u, e.t, e.p, row_number() OVER (ORDER BY e.u, a.i, e.k) AS i
      FROM allowed a JOIN msg ON msg.id = a.id
     CROSS JOIN LATERAL (VALUES
       (a.recipient_id, '${EventType.MESSAGE_RECEIVED}', jsonb_build_object('conversationId', a.conversation_id, 'messageId', a.id, 'senderId', a.sender_id), 1),
       (a.sender_id, '${EventType.MESSAGE_RECEIVED}', jsonb_build_object('conversationId', a.conversation_id, 'messageId', a.id, 'senderId', a.sender_id), 2),
       (a.recipient_id, '${EventType.INBOX_BADGE_CHANGED}', jsonb_build_object('conversationId', a.conversation_id), 3),
       -- The sender had deleted the conversation: its own message brings it back to its inbox.
       (CASE WHEN NOT a.sender_in_inbox AND a.senders_nth = 1 THEN a.sender_id END, '${EventType.INBOX_BADGE_CHANGED}', jsonb_build_object('conversationId', a.conversation_id), 4)
     ) AS e(u, t, p, k)
     WHERE e.u IS NOT NULL
  ), ${eventLogCtesOver('SELECT u, t, p, i FROM ev_src', '$9', 'members')}
  SELECT (SELECT json_agg(json_build_object(
            'i', f.i, 'open', f.open, 'recipient_policy', f.recipient_policy, 'sender_policy', f.sender_policy,
            'ban_until', f.ban_until, 'banned', f.banned, 'a_blocks_b', f.a_blocks_b, 'b_blocks_a', f.b_blocks_a,
            'reply_found', f.reply_found, 'prior', f.prior, 'seq', (SELECT seq FROM msg WHERE msg.id = f.id)))
            FROM facts f) AS facts,
         (SELECT coalesce(json_agg(json_build_object('u', u, 't', t, 'p', p, 'seq', seq) ORDER BY i), '[]') FROM ev_numbered) AS events`;

/** The batch's statements, for whichever connection runs them (send-batch-core.ts). */
export const BATCH_SQL: BatchSql = { lockAndCount: LOCK_AND_COUNT, factsAndAppend: FACTS_AND_APPEND };

export interface SettleDeps {
  now: Date;
  messages: MessagesService;
  publish: (tx: Tx, events: UserEvent[]) => void;
}

/**
 * One batch of sendMessage calls in the caller's transaction, on its connection: 2
 * statements whatever its size (BEGIN and COMMIT are the caller's).
 */
export async function runSendBatch(tx: Tx, sends: readonly QueuedSend[], deps: SettleDeps & { rate: RateWindow }): Promise<BatchOutcome[]> {
  const exec = async (name: string, text: string, values: unknown[]) => (await prepared(tx.manager, name, text, values)).rows;
  return settleSendBatch(tx, sends, await decideSendBatch(exec, BATCH_SQL, sends, deps.now, deps.rate), deps);
}

/**
 * A batch's decisions as answers: refusals as the single path's AppErrors, appended sends
 * as their messages (kept for their live deliveries) and the events it wrote published,
 * both once `tx` commits. A repeat of a key answers the message sent under it, or
 * IDEMPOTENCY_KEY_REUSED for other content, as the single path does.
 */
export function settleSendBatch(tx: Tx, sends: readonly QueuedSend[], raw: RawBatch, deps: SettleDeps): BatchOutcome[] {
  const appended = new Map<string, Message>();
  const outcomes = raw.outcomes.map((o, at): BatchOutcome => {
    const send = sends[at];
    if ('later' in o) return o;
    if ('refused' in o) return { error: new AppError(o.refused.code, o.refused.message, o.refused.extensions) };
    if ('prior' in o) {
      try {
        return { message: MessagesService.replayOf(messageFromRow(o.prior), send.conversationId, send.text) };
      } catch (err) {
        return { error: err as AppError };
      }
    }
    const message = messageFromRow({
      id: o.id,
      conversation_id: send.conversationId,
      seq: o.seq,
      sender_id: send.senderId,
      text: send.text,
      client_message_id: send.clientMessageId,
      created_at: deps.now,
      seen_at: null,
      reply_to_id: send.replyToId,
      edited_at: null,
      edit_count: 0,
      unsent_at: null,
    });
    appended.set(message.id, message);
    deps.messages.keepForDelivery(tx, message);
    return { message };
  });
  if (raw.events.length === 0) return outcomes;

  const posted = new Map([...appended].map(([id, m]) => [id, toPosted(m)]));
  deps.publish(
    tx,
    raw.events.map((e) => {
      const event: UserEvent = { userId: e.u, cursor: String(e.seq), type: e.t, payload: e.p, publishedAt: 0 };
      if (e.t === EventType.MESSAGE_RECEIVED) event.posted = posted.get((e.p as unknown as MessageReceivedPayload).messageId);
      return event;
    }),
  );
  return outcomes;
}
