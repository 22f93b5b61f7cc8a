import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { committedElsewhere, runInTransaction, type Tx } from '../../db/transaction';
import { AppError, isConnectionError } from '../../graphql/errors';
import type { UserEvent } from '../../graphql/pubsub';
import type { Clock } from '../../lib/clock';
import { isUuid, isValidClientMessageId } from '../../lib/ids';
import type { Message } from './message.entity';
import { messageTextAcceptable } from './message-rules';
import type { MessagesService, SendMessage } from './messages.service';
import { BatchVerdictMismatch, runSendBatch, settleSendBatch, type BatchOutcome, type QueuedSend, type RateWindow } from './send-batch';
import type { SendBatchThread } from './send-batch-thread';

export interface SendBatcherSettings {
  /** Off: every send takes the single path (an operator's switch, and the A/B). */
  enabled: boolean;
  /** Most sends in one transaction. */
  maxBatch: number;
  /** Batches in flight at once in this process (each on its own connection). */
  inFlight: number;
  /**
   * While a batch is in flight, the sends waiting go as a second batch only once the
   * oldest has waited this long (or a full batch waits): otherwise they join the batch
   * after it. 0: at once, while fewer than `inFlight` run.
   */
  holdMs: number;
  /** A send that would wait longer than this for a batch is refused at once, SERVICE_UNAVAILABLE with retryAfter. */
  maxQueueMs: number;
  rate: RateWindow;
}

interface Waiting {
  send: QueuedSend;
  queuedAt: number;
  resolve(message: Message): void;
  reject(err: unknown): void;
}

export interface SendBatcherDeps {
  dataSource: DataSource;
  clock: Clock;
  messages: MessagesService;
  /** The single path's rate limit (for sends that fall back after their batch rolled back). */
  consumeSend(senderId: string): Promise<void>;
  publish(tx: Tx, events: UserEvent[]): void;
  logger: Logger;
  /** Where batches run (SEND_BATCH_THREAD); without it, on the app's connections. */
  thread?: SendBatchThread;
}

/**
 * Group commit for sendMessage. A send joins the queue; whenever fewer than `inFlight`
 * batches are running, the sends waiting at that moment (up to `maxBatch`) go as one
 * transaction (send-batch.ts): an idle server sends at once, and under load a batch holds
 * what arrived while the one before it committed (a batch beside one in flight waits
 * `holdMs` first: see holdLeft). Each client is answered
 * only once its batch has committed (synchronous_commit stays on: an acknowledged message
 * is durable). One send's refusal is its own; an unexpected failure of a batch (a deadlock
 * past its retries, SQL and message-rules disagreeing, a lost connection) sends each of its
 * members again by the single path, which decides and answers each on its own: except,
 * after a lost connection, the sends without a clientMessageId. The connection may have
 * died during COMMIT, after PostgreSQL committed: a key makes the resend answer the
 * committed message, but without one the server would post it twice. Those get the
 * connection error (SERVICE_UNAVAILABLE, retryable), as the single path answers it.
 *
 * Sends the batch does not take (a malformed id or key, a text the rules refuse) go the
 * single path directly: their refusals keep its exact order of codes.
 *
 * With SEND_BATCH_THREAD (the default) batches run on the batch thread
 * (send-batch-thread.ts), one at a time (SEND_BATCHES_IN_FLIGHT 1): on the main thread each
 * of a batch's four round trips waits for a turn of the event loop, tens of milliseconds
 * under load, while the batch holds its pairs' locks; on the thread a batch takes what
 * PostgreSQL takes, so one batch in flight keeps up where on the main thread it took
 * three, and one batch at a time carries every send that arrived meanwhile: fuller
 * batches, less PostgreSQL time per message (docs/performance.md).
 */
export class SendBatcher {
  private queue: Waiting[] = [];
  private running = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private batches = 0;
  private batchedSends = 0;
  /** Of the batches, those run on the batch thread. */
  private threaded = 0;
  /** Batch transactions run again after a deadlock or serialization failure, and batches that fell back. */
  private retried = 0;
  private fellBack = 0;
  /** How long a batch takes, start to answers (moving average, ms): what a queued send waits per round. */
  private batchMs = 0;

  constructor(
    private readonly deps: SendBatcherDeps,
    private readonly settings: SendBatcherSettings,
  ) {}

  async send(senderId: string, input: SendMessage): Promise<Message> {
    const send = this.batchable(senderId, input);
    if (!send) {
      await this.deps.consumeSend(senderId);
      return this.deps.messages.send(senderId, input);
    }
    if (this.expectedWaitMs() > this.settings.maxQueueMs) {
      throw new AppError('SERVICE_UNAVAILABLE', 'Too many messages are being sent right now; retry shortly', { retryAfter: 1, retryable: true });
    }
    return new Promise<Message>((resolve, reject) => {
      this.queue.push({ send, queuedAt: Date.now(), resolve, reject });
      this.pump();
    });
  }

  /** Resolves once the batch thread (if any) is ready: the app waits for it before serving. */
  ready(): Promise<void> {
    return this.deps.thread?.ready() ?? Promise.resolve();
  }

  /** Ends the batch thread (the app's close, after the last send). */
  close(): Promise<void> {
    return this.deps.thread?.close() ?? Promise.resolve();
  }

  /** Batches run and the sends they carried, since start (metrics, the bench). */
  stats(): { batches: number; threaded: number; sends: number; queued: number; running: number; retried: number; fellBack: number } {
    return {
      batches: this.batches,
      threaded: this.threaded,
      sends: this.batchedSends,
      queued: this.queue.length,
      running: this.running,
      retried: this.retried,
      fellBack: this.fellBack,
    };
  }

  private batchable(senderId: string, input: SendMessage): QueuedSend | null {
    if (!this.settings.enabled) return null;
    const key = input.clientMessageId ?? null;
    const replyToId = input.replyToId ?? null;
    if (!isUuid(input.conversationId) || (key !== null && !isValidClientMessageId(key)) || (replyToId !== null && !isUuid(replyToId))) return null;
    if (!messageTextAcceptable(input.text)) return null;
    return { senderId, conversationId: input.conversationId, text: input.text, clientMessageId: key, replyToId };
  }

  private pump(): void {
    while (this.running < this.settings.inFlight && this.queue.length > 0) {
      const hold = this.holdLeft();
      if (hold > 0) {
        this.holdTimer ??= setTimeout(() => {
          this.holdTimer = null;
          this.pump();
        }, hold);
        return;
      }
      const members = this.queue.splice(0, this.settings.maxBatch);
      this.running++;
      const startedAt = Date.now();
      void this.run(members).finally(() => {
        const took = Date.now() - startedAt;
        this.batchMs = this.batchMs === 0 ? took : 0.8 * this.batchMs + 0.2 * took;
        this.running--;
        this.pump();
      });
    }
  }

  /**
   * How long a send joining the queue now would wait for its batch to start: the oldest
   * waiting send's wait so far, or the rounds of batches ahead of it, whichever is longer.
   * The oldest's age alone misses a burst: a thousand sends queued within a few
   * milliseconds all pass it, and the last of them waits many batches.
   */
  private expectedWaitMs(): number {
    const oldest = this.queue[0];
    const waited = oldest ? Date.now() - oldest.queuedAt : 0;
    const { maxBatch, inFlight } = this.settings;
    if (this.running < inFlight && this.queue.length < maxBatch) return waited;
    // Half a batch for the batches in flight to free a slot, then a batch per full round ahead.
    const rounds = 0.5 + Math.floor(this.queue.length / (maxBatch * inFlight));
    return Math.max(waited, rounds * this.batchMs);
  }

  /**
   * How long the waiting sends should still wait for the batch in flight rather than go
   * beside it. Each batch costs PostgreSQL about the same whatever its size (its
   * statements, its commit's flush), so at a steady rate one batch at a time carrying a
   * few milliseconds of sends costs far less per message than three small ones; once the
   * batch in flight is slow (a burst, a slow flush), the hold runs out and others join it.
   * Idle (nothing in flight), a send goes at once.
   */
  private holdLeft(): number {
    if (this.running === 0 || this.queue.length >= this.settings.maxBatch) return 0;
    return this.settings.holdMs - (Date.now() - this.queue[0].queuedAt);
  }

  private async run(members: Waiting[]): Promise<void> {
    let outcomes: BatchOutcome[];
    try {
      const sends = members.map((m) => m.send);
      const thread = this.deps.thread;
      outcomes = thread ? await this.onThread(thread, sends) : await this.here(sends);
      this.batches++;
      if (thread) this.threaded++;
      this.batchedSends += members.length;
    } catch (err) {
      this.fellBack++;
      const level = err instanceof BatchVerdictMismatch ? 'error' : 'warn';
      this.deps.logger[level]({ err: (err as Error).message, code: (err as { code?: string }).code, sends: members.length }, 'send batch failed; its sends go the single path');
      const commitUnknown = isConnectionError(err);
      await Promise.all(members.map((m) => (commitUnknown && m.send.clientMessageId === null ? m.reject(err) : this.single(m, true))));
      return;
    }
    await Promise.all(
      members.map((m, i) => {
        const outcome = outcomes[i];
        if ('message' in outcome) return m.resolve(outcome.message);
        if ('error' in outcome) return m.reject(outcome.error);
        return this.single(m, false);
      }),
    );
  }

  /** A batch in a transaction on the app's own connection. */
  private here(sends: QueuedSend[]): Promise<BatchOutcome[]> {
    let attempts = 0;
    return runInTransaction(this.deps.dataSource, (tx) => {
      if (attempts++ > 0) this.retried++;
      return runSendBatch(tx, sends, { now: this.deps.clock.now(), rate: this.settings.rate, messages: this.deps.messages, publish: this.deps.publish });
    });
  }

  /** A batch committed by the thread, then answered, kept for delivery and published here. */
  private async onThread(thread: SendBatchThread, sends: QueuedSend[]): Promise<BatchOutcome[]> {
    const now = this.deps.clock.now();
    const done = await thread.run(sends, now, this.settings.rate);
    this.retried += done.retried;
    // Logged as the app's own statements: the statement counts (tests, logs) see them.
    for (const text of done.statements) this.deps.dataSource.logger.logQuery(text);
    const { tx, committed } = committedElsewhere(this.deps.dataSource.manager);
    let outcomes: BatchOutcome[];
    try {
      outcomes = settleSendBatch(tx, sends, done.batch, { now, messages: this.deps.messages, publish: this.deps.publish });
    } catch (err) {
      // Committed already: sending them again would post them twice. Clients retry with their keys.
      this.deps.logger.error({ err: (err as Error).message, sends: sends.length }, 'a committed send batch could not be answered');
      return sends.map(() => ({ error: new AppError('INTERNAL_SERVER_ERROR') }));
    }
    await committed();
    return outcomes;
  }

  /** The single path for one member; `count`: its attempt was not counted (its batch rolled back). */
  private async single(m: Waiting, count: boolean): Promise<void> {
    try {
      if (count) await this.deps.consumeSend(m.send.senderId);
      m.resolve(await this.deps.messages.send(m.send.senderId, m.send));
    } catch (err) {
      m.reject(err);
    }
  }
}
