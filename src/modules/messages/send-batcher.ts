import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { committedElsewhere, runInTransaction, type Tx } from '../../db/transaction';
import { AppError, isConnectionError } from '../../graphql/errors';
import type { UserEvent } from '../../graphql/pubsub';
import type { Clock } from '../../lib/clock';
import { isUuid, isValidClientMessageId } from '../../lib/ids';
import { spacingGapMs, type BatchSpacing } from './batch-spacing';
import type { Message } from './message.entity';
import { messageTextAcceptable } from './message-rules';
import type { MessagesService, SendMessage } from './messages.service';
import { BatchVerdictMismatch, runSendBatch, settleSendBatch, type BatchOutcome, type QueuedSend, type RateWindow } from './send-batch';
import type { CommittedBatch, SendBatchThread, ThreadListener } from './send-batch-thread';

/**
 * How long a queued send waits, at most, for the end of its turn before it goes to the
 * batch thread (or until a full batch waits). Shorter turns hand their sends over at
 * their end (setImmediate).
 */
const HANDOVER_MS = 5;

export interface SendBatcherSettings {
  /** Off: every send takes the single path (an operator's switch, and the A/B). */
  enabled: boolean;
  /** Most sends in one transaction. */
  maxBatch: number;
  /** Batches in flight at once in this process, each on its own connection (on the app's connections only: the batch thread runs one at a time). */
  inFlight: number;
  /**
   * While a batch is in flight, the sends waiting go as a second batch only once the
   * oldest has waited this long (or a full batch waits): otherwise they join the batch
   * after it. 0: at once, while fewer than `inFlight` run. On the app's connections only.
   */
  holdMs: number;
  /** A send that would wait longer than this for a batch is refused at once, SERVICE_UNAVAILABLE with retryAfter. */
  maxQueueMs: number;
  /** How the batch thread spaces its batches under load (batch-spacing.ts); on the thread only. */
  spacing: BatchSpacing;
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
  /** Starts the batch thread, telling it whom to answer (SEND_BATCH_THREAD); without it, batches run on the app's connections. */
  thread?: (listener: ThreadListener) => SendBatchThread;
}

/** A chunk of sends handed to the batch thread, until its batch is answered. */
interface AtThread {
  members: Waiting[];
  /** Taken into the batch the thread runs now. */
  started: boolean;
}

/**
 * Group commit for sendMessage. A send joins the queue; the sends waiting when a batch can
 * start (up to `maxBatch`) go as one transaction (send-batch.ts): an idle server sends at
 * once, and under load a batch holds what arrived while the one before it committed. On
 * the batch thread (below) one batch runs at a time; on the app's connections, up to
 * `inFlight` (a batch beside one in flight waits `holdMs` first: see holdLeft). Each
 * client is answered only once its batch has committed (synchronous_commit stays on: an
 * acknowledged message is durable). One send's refusal is its own; an unexpected failure
 * of a batch (a deadlock past its retries, SQL and message-rules disagreeing, a lost
 * connection) sends each of its members again by the single path, which decides and
 * answers each on its own: except, after a lost connection, the sends without a
 * clientMessageId. The connection may have died during COMMIT, after PostgreSQL
 * committed: a key makes the resend answer the committed message, but without one the
 * server would post it twice. Those get the connection error (SERVICE_UNAVAILABLE,
 * retryable), as the single path answers it.
 *
 * Sends the batch does not take (a malformed id or key, a text the rules refuse) go the
 * single path directly: their refusals keep its exact order of codes.
 *
 * With SEND_BATCH_THREAD (the default) batches run on the batch thread
 * (send-batch-thread.ts), one at a time: each turn's sends go to the thread as a chunk at
 * its end (a long turn's also every HANDOVER_MS while it runs), and the thread takes
 * every chunk that arrived while its last batch ran into the next. On the main thread
 * each of a batch's four round trips waits for a turn of the event
 * loop, tens of milliseconds under load, while the batch holds its pairs' locks; on the
 * thread a batch takes what PostgreSQL takes, and the next starts as soon as it commits:
 * one batch at a time keeps up, carrying every send that arrived meanwhile (fuller
 * batches, less PostgreSQL time per message: docs/performance.md).
 */
export class SendBatcher {
  /** Sends not yet handed to a batch (nor, with the thread, to the thread). */
  private queue: Waiting[] = [];
  private readonly thread: SendBatchThread | undefined;
  /** Chunks at the batch thread, by id, in the order submitted. */
  private readonly atThread = new Map<number, AtThread>();
  private flushing: NodeJS.Immediate | null = null;
  private running = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private batches = 0;
  private batchedSends = 0;
  /** Of the batches, those run on the batch thread. */
  private threaded = 0;
  /** Batch transactions run again after a deadlock or serialization failure, and batches that fell back. */
  private retried = 0;
  private fellBack = 0;
  /** How long a batch takes (moving average, ms): what a queued send waits per round. Here, start to answers; on the thread, BEGIN to COMMIT as the thread times it. */
  private batchMs = 0;

  constructor(
    private readonly deps: SendBatcherDeps,
    private readonly settings: SendBatcherSettings,
  ) {
    this.thread = deps.thread?.({ started: (ids) => this.startedOnThread(ids), finished: (ids, result) => void this.finishedOnThread(ids, result) });
  }

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
      const now = Date.now();
      this.queue.push({ send, queuedAt: now, resolve, reject });
      if (!this.thread) return this.pump();
      // Under load one turn reads hundreds of frames for 100 ms and more: what it queued
      // early goes to the thread while it still runs, not at its end.
      if (this.queue.length >= this.settings.maxBatch || now - this.queue[0].queuedAt >= HANDOVER_MS) this.toThread();
      else
        this.flushing ??= setImmediate(() => {
          this.flushing = null;
          this.toThread();
        });
    });
  }

  /** Resolves once the batch thread (if any) is ready: the app waits for it before serving. */
  ready(): Promise<void> {
    return this.thread?.ready() ?? Promise.resolve();
  }

  /** Ends the batch thread (the app's close, after the last send). */
  close(): Promise<void> {
    return this.thread?.close() ?? Promise.resolve();
  }

  /** Batches run and the sends they carried, since start (metrics, the bench). */
  stats(): { batches: number; threaded: number; sends: number; queued: number; running: number; retried: number; fellBack: number } {
    return {
      batches: this.batches,
      threaded: this.threaded,
      sends: this.batchedSends,
      queued: this.waiting().count,
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
    const { count, oldestAt } = this.waiting();
    const waited = oldestAt === null ? 0 : Date.now() - oldestAt;
    const maxBatch = this.settings.maxBatch;
    const inFlight = this.thread ? 1 : this.settings.inFlight;
    if (this.running < inFlight && count < maxBatch) return waited;
    // Half a batch for the batches in flight to free a slot, then a batch per full round ahead.
    const rounds = 0.5 + Math.floor(count / (maxBatch * inFlight));
    // On the thread a round under load is the spacing when that is longer than the batch.
    const round = this.thread ? Math.max(this.batchMs, spacingGapMs(this.batchMs, this.settings.spacing)) : this.batchMs;
    return Math.max(waited, rounds * round);
  }

  /** The sends waiting for a batch to start (with the thread, those at it too), and since when the oldest waits. */
  private waiting(): { count: number; oldestAt: number | null } {
    let count = this.queue.length;
    let oldestAt = this.queue[0]?.queuedAt ?? null;
    for (const chunk of this.atThread.values()) {
      if (chunk.started) continue;
      count += chunk.members.length;
      oldestAt = Math.min(oldestAt ?? Infinity, chunk.members[0].queuedAt);
    }
    return { count, oldestAt };
  }

  /** Hands the queued sends to the thread, in chunks of at most a batch. */
  private toThread(): void {
    const thread = this.thread!;
    while (this.queue.length > 0) {
      const members = this.queue.splice(0, this.settings.maxBatch);
      let id: number;
      try {
        id = thread.submit(members.map((m) => m.send), this.deps.clock.now(), this.settings.rate);
      } catch (err) {
        void this.fallBack(members, err);
        continue;
      }
      this.atThread.set(id, { members, started: false });
    }
  }

  private startedOnThread(ids: number[]): void {
    for (const id of ids) this.atThread.get(id)!.started = true;
    this.running++;
  }

  /** A batch of the thread's answered: committed, failed, or lost with the thread (chunks maybe never started). */
  private async finishedOnThread(ids: number[], result: CommittedBatch | Error): Promise<void> {
    const chunks = ids.map((id) => this.atThread.get(id)!);
    for (const id of ids) this.atThread.delete(id);
    if (chunks.some((c) => c.started)) this.running--;
    const members = chunks.flatMap((c) => c.members);
    if (result instanceof Error) return this.fallBack(members, result);
    this.batches++;
    this.threaded++;
    this.batchedSends += members.length;
    this.retried += result.retried;
    this.batchMs = this.batchMs === 0 ? result.tookMs : 0.8 * this.batchMs + 0.2 * result.tookMs;
    await this.answer(members, await this.settleFromThread(members, result));
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
      outcomes = await this.here(members.map((m) => m.send));
      this.batches++;
      this.batchedSends += members.length;
    } catch (err) {
      return this.fallBack(members, err);
    }
    await this.answer(members, outcomes);
  }

  /** A batch that failed: rolled back (or its commit unknown), each member sent again by the single path, as the class comment says. */
  private async fallBack(members: Waiting[], err: unknown): Promise<void> {
    this.fellBack++;
    const level = err instanceof BatchVerdictMismatch ? 'error' : 'warn';
    this.deps.logger[level]({ err: (err as Error).message, code: (err as { code?: string }).code, sends: members.length }, 'send batch failed; its sends go the single path');
    const commitUnknown = isConnectionError(err);
    await Promise.all(members.map((m) => (commitUnknown && m.send.clientMessageId === null ? m.reject(err) : this.single(m, true))));
  }

  private async answer(members: Waiting[], outcomes: BatchOutcome[]): Promise<void> {
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
  private async settleFromThread(members: Waiting[], done: CommittedBatch): Promise<BatchOutcome[]> {
    const sends = members.map((m) => m.send);
    // Logged as the app's own statements: the statement counts (tests, logs) see them.
    for (const text of done.statements) this.deps.dataSource.logger.logQuery(text);
    const { tx, committed } = committedElsewhere(this.deps.dataSource.manager);
    let outcomes: BatchOutcome[];
    try {
      outcomes = settleSendBatch(tx, sends, done.batch, { now: done.now, messages: this.deps.messages, publish: this.deps.publish });
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
