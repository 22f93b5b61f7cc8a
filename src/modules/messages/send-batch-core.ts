import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '../../graphql/errors';
import type { MessageRow } from './message-rows';
import { evaluateSendMessage, type SendMessageFacts } from './message-rules';

/**
 * What a send batch decides, as plain data over any way of running its two statements: on
 * the app's own connection (send-batch.ts), or on a worker thread's (send-batch.worker.ts),
 * whose event loop the sockets do not load. Nothing here may import an entity or the
 * GraphQL layer: the worker loads this file and node-postgres, nothing more.
 */

/** One sendMessage waiting in the batcher: well formed (send-batcher.ts), its text acceptable. */
export interface QueuedSend {
  senderId: string;
  conversationId: string;
  text: string;
  clientMessageId: string | null;
  replyToId: string | null;
}

export interface RateWindow {
  /** Sends allowed per window (MESSAGE_RATE_BURST). */
  points: number;
  windowMs: number;
}

/** A refusal as data; send-batch.ts makes it the AppError the single path would throw. */
export interface Refusal {
  code: ErrorCode;
  message: string;
  extensions: Record<string, unknown>;
}

/**
 * One send's decision: appended (its new id and seq), a repeat of a key already used (the
 * message sent under it), refused, or `later`: sent by the single path after the batch
 * commits (a conversation still a request, a second send under one key in the same batch)
 * with its rate-limit attempt already counted here.
 */
export type RawOutcome = { id: string; seq: string } | { prior: MessageRow } | { refused: Refusal } | { later: true };

/** An event row the batch wrote to an account's log. */
export interface RawEvent {
  u: string;
  t: string;
  p: Record<string, unknown>;
  seq: number;
}

export interface RawBatch {
  outcomes: RawOutcome[];
  events: RawEvent[];
}

/** The batch's two statements (send-batch.ts builds them). */
export interface BatchSql {
  lockAndCount: string;
  factsAndAppend: string;
}

/** Runs one named prepared statement in the batch's transaction and answers its rows. */
export type Exec = (name: string, text: string, values: unknown[]) => Promise<Array<Record<string, unknown>>>;

/** The sends' rule facts disagree between SQL and message-rules: the batch is rolled back and its sends go the single path. */
export class BatchVerdictMismatch extends Error {}

export const RATE_KEY_PREFIX = 'send:';
export const BATCH_LOCK_STATEMENT = 'messages.batch-lock';
export const BATCH_APPEND_STATEMENT = 'messages.batch-append';

interface ConversationFact {
  id: string;
  status: string;
  low: string;
  high: string;
}

interface Attempts {
  key: string;
  points: number;
  expire: number | string | null;
}

interface RowFacts {
  i: number;
  open: boolean;
  recipient_policy: SendMessageFacts['recipientPolicy'];
  sender_policy: SendMessageFacts['senderPolicy'];
  ban_until: string | null;
  banned: boolean;
  a_blocks_b: boolean;
  b_blocks_a: boolean;
  reply_found: boolean;
  prior: MessageRow | null;
  seq: number | null;
}

interface Candidate {
  /** Position in the batch. */
  at: number;
  send: QueuedSend;
  id: string;
  recipientId: string;
}

/**
 * One batch of sendMessage calls inside the caller's transaction: 2 statements whatever its
 * size (BEGIN and COMMIT are the caller's). Refusals are each send's own; the rest append.
 * Every outcome is final only if the transaction commits.
 */
export async function decideSendBatch(exec: Exec, sql: BatchSql, sends: readonly QueuedSend[], now: Date, rate: RateWindow): Promise<RawBatch> {
  const nowMs = now.getTime();
  const [head] = (await exec(BATCH_LOCK_STATEMENT, sql.lockAndCount, [
    sends.map((s) => s.conversationId),
    sends.map((s) => s.senderId),
    nowMs,
    rate.windowMs,
  ])) as Array<{ conversations: ConversationFact[]; attempts: Attempts[] }>;
  const conversations = new Map(head.conversations.map((c) => [c.id, c]));
  const attempts = new Map(head.attempts.map((a) => [a.key, a]));
  const perSender = new Map<string, number>();
  for (const s of sends) perSender.set(s.senderId, (perSender.get(s.senderId) ?? 0) + 1);

  const outcomes: RawOutcome[] = new Array(sends.length);
  const candidates: Candidate[] = [];
  const keysInBatch = new Set<string>();
  const seenOfSender = new Map<string, number>();
  sends.forEach((send, at) => {
    // The rate limit first, as the single path's middleware: its k-th send of the batch
    // is the sender's (points before the batch + k)-th attempt of the window.
    const attempt = attempts.get(RATE_KEY_PREFIX + send.senderId)!;
    const nth = (seenOfSender.get(send.senderId) ?? 0) + 1;
    seenOfSender.set(send.senderId, nth);
    if (attempt.points - perSender.get(send.senderId)! + nth > rate.points) {
      const msLeft = attempt.expire === null ? rate.windowMs : Number(attempt.expire) - nowMs;
      outcomes[at] = { refused: { code: 'RATE_LIMITED', message: 'You are sending too fast; slow down', extensions: { retryAfter: Math.max(1, Math.ceil(msLeft / 1000)) } } };
      return;
    }
    const conversation = conversations.get(send.conversationId);
    if (!conversation || (send.senderId !== conversation.low && send.senderId !== conversation.high)) {
      outcomes[at] = { refused: { code: 'NOT_FOUND', message: 'Conversation not found', extensions: {} } };
      return;
    }
    const keyed = send.clientMessageId === null ? null : `${send.senderId}/${send.clientMessageId}`;
    // Still a request (its own readability rules), or the same key twice: after the commit.
    if (conversation.status !== 'OPEN' || (keyed !== null && keysInBatch.has(keyed))) {
      outcomes[at] = { later: true };
      return;
    }
    if (keyed !== null) keysInBatch.add(keyed);
    const recipientId = send.senderId === conversation.low ? conversation.high : conversation.low;
    candidates.push({ at, send, id: randomUUID(), recipientId });
  });
  if (candidates.length === 0) return { outcomes, events: [] };

  const [appended] = (await exec(BATCH_APPEND_STATEMENT, sql.factsAndAppend, [
    candidates.map((c) => c.at),
    candidates.map((c) => c.id),
    candidates.map((c) => c.send.conversationId),
    candidates.map((c) => c.send.senderId),
    candidates.map((c) => c.recipientId),
    candidates.map((c) => c.send.text),
    candidates.map((c) => c.send.clientMessageId),
    candidates.map((c) => c.send.replyToId),
    now,
  ])) as Array<{ facts: RowFacts[]; events: RawEvent[] }>;
  const facts = new Map(appended.facts.map((f) => [f.i, f]));
  for (const c of candidates) {
    const f = facts.get(c.at);
    if (!f) throw new BatchVerdictMismatch(`no facts for a send of conversation ${c.send.conversationId}`);
    if (f.prior) {
      outcomes[c.at] = { prior: f.prior };
      continue;
    }
    const verdict = evaluateSendMessage({
      senderBan: f.banned ? { until: f.ban_until === null ? null : new Date(f.ban_until) } : null,
      senderPolicy: f.sender_policy,
      relationship: { aBlocksB: f.a_blocks_b, bBlocksA: f.b_blocks_a },
      conversationOpen: f.open,
      recipientPolicy: f.recipient_policy,
      replyFound: f.reply_found,
      text: c.send.text,
    });
    if (verdict.allowed !== (f.seq !== null)) throw new BatchVerdictMismatch(`SQL and message-rules disagree on a send of conversation ${c.send.conversationId}`);
    outcomes[c.at] = verdict.allowed ? { id: c.id, seq: String(f.seq) } : { refused: { code: verdict.code, message: verdict.message, extensions: verdict.extensions } };
  }
  return { outcomes, events: appended.events };
}
