import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { PoolConfig } from 'pg';
import { startWorker } from '../../lib/worker-thread';
import type { BatchSpacing } from './batch-spacing';
import { BatchVerdictMismatch, type BatchSql, type QueuedSend, type RateWindow, type RawBatch } from './send-batch-core';

/** What the thread starts with: its connection's settings (the app pool's), the batch's statements, the most sends in one batch. */
export interface ThreadData {
  connection: PoolConfig;
  sql: BatchSql;
  maxBatch: number;
  /** Under load, how soon after the last batch started the next may start (batch-spacing.ts). */
  spacing: BatchSpacing;
}

/** A chunk of sends handed to the thread, or the app closing it. */
export type ThreadRequest = { id: number; sends: QueuedSend[]; nowMs: number; rate: RateWindow } | { id: number; close: true };

export type ThreadReply =
  | { started: number[] }
  | { ids: number[]; batch: RawBatch; statements: string[]; retried: number; nowMs: number; tookMs: number }
  | { ids: number[]; error: { message: string; code?: string; mismatch: boolean } }
  | { id: number; closed: true }
  | { id: 0; ready: true };

/** One batch the thread ran: the chunks it took, in order, as one transaction. */
export interface CommittedBatch {
  batch: RawBatch;
  /** Every statement sent, BEGIN and COMMIT included (the app logs them as its own). */
  statements: string[];
  /** Times the transaction ran again after a deadlock or serialization failure. */
  retried: number;
  /** The time the batch wrote (the latest of its chunks'). */
  now: Date;
  /** BEGIN to COMMIT's answer, on the thread (ms). */
  tookMs: number;
}

/** What the thread tells the batcher, chunk ids in the order they were submitted. */
export interface ThreadListener {
  /** The thread took these chunks into the batch it runs now (one batch at a time). */
  started(ids: number[]): void;
  /** That batch committed; or failed and was rolled back (the error), or was lost with the thread (SQLSTATE 08006: its commit's outcome unknown). */
  finished(ids: number[], result: CommittedBatch | Error): void;
}

const ENTRY = path.join(__dirname, 'send-batch-thread.worker');

/**
 * Runs send batches' transactions on a worker thread with its own connection. Under load
 * the main thread's event loop turns in tens to hundreds of milliseconds (thousands of
 * socket frames per turn), and a batch on the main thread waits a turn for each of its four
 * round trips (BEGIN, two statements, COMMIT) while holding its pairs' locks. On the thread
 * a batch takes what PostgreSQL takes.
 *
 * The main thread hands over each turn's sends as a chunk (`submit`) as soon as they
 * arrive; the thread runs one batch at a time, and as soon as one commits it takes every
 * chunk that came meanwhile (up to `maxBatch` sends) as the next. So the batches follow
 * one another at PostgreSQL's pace, not at the pace of the main thread's turns: when the
 * main thread started each batch once it had read the previous one's answer, the
 * connection stood idle between batches about as long as it worked under overload
 * (docs/performance.md). Decisions go back as plain data (send-batch-core.ts), once per
 * batch; `started` tells which chunks a batch took, so the batcher knows what still waits.
 */
export class SendBatchThread {
  private worker: Worker | null = null;
  private nextId = 1;
  /** Chunks submitted and not yet finished, in order. */
  private readonly outstanding = new Set<number>();
  private readonly closed = new Map<number, () => void>();
  private closing = false;
  private readonly started: Promise<void>;
  private markStarted: () => void = () => undefined;

  /** Starts the thread, which opens its connection and prepares its statements at once. */
  constructor(
    private readonly data: ThreadData,
    private readonly listener: ThreadListener,
  ) {
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    this.start();
  }

  /**
   * Resolves once the first thread has loaded and prepared its connection (or failed to):
   * the app waits for it before serving, so no send waits for the thread's start and the
   * batcher's measure of a batch's time never includes it.
   */
  ready(): Promise<void> {
    return this.started;
  }

  /**
   * Hands a chunk of sends to the thread and answers its id; `listener` hears of it. Throws
   * a connection failure (08006) once the app is closing: nothing of it was written.
   */
  submit(sends: QueuedSend[], now: Date, rate: RateWindow): number {
    if (this.closing) throw Object.assign(new Error('Connection terminated: the server is closing'), { code: '08006' });
    const id = this.nextId++;
    const worker = this.worker ?? this.start();
    this.outstanding.add(id);
    worker.postMessage({ id, sends, nowMs: now.getTime(), rate } satisfies ThreadRequest);
    return id;
  }

  /** Ends the thread's connection (after the batch it runs), then the thread. */
  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    const id = this.nextId++;
    await new Promise<void>((resolve) => {
      this.closed.set(id, resolve);
      worker.postMessage({ id, close: true } satisfies ThreadRequest);
      worker.once('exit', () => resolve());
    });
    await worker.terminate();
  }

  private start(): Worker {
    const worker = startWorker(ENTRY, { workerData: this.data });
    worker.on('message', (reply: ThreadReply) => this.heard(reply));
    const lost = (why: string) => {
      if (this.worker === worker) this.worker = null;
      const ids = [...this.outstanding];
      this.outstanding.clear();
      this.markStarted();
      if (ids.length > 0) this.listener.finished(ids, Object.assign(new Error(`Connection terminated: the send batch thread ${why}`), { code: '08006' }));
    };
    worker.on('error', (err) => lost(`failed (${err.message})`));
    worker.on('exit', (code) => lost(`exited (${code})`));
    // The app's close() ends it; a forgotten app must not keep the process alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private heard(reply: ThreadReply): void {
    if ('ready' in reply) return this.markStarted();
    if ('closed' in reply) return this.closed.get(reply.id)?.();
    if ('started' in reply) return this.listener.started(reply.started);
    for (const id of reply.ids) this.outstanding.delete(id);
    if ('error' in reply) {
      const { message, code, mismatch } = reply.error;
      return this.listener.finished(reply.ids, Object.assign(mismatch ? new BatchVerdictMismatch(message) : new Error(message), code ? { code } : {}));
    }
    const { batch, statements, retried, nowMs, tookMs } = reply;
    this.listener.finished(reply.ids, { batch, statements, retried, now: new Date(nowMs), tookMs });
  }
}

/** The app pool's settings for the thread's one connection: those that can be copied to it (functions, such as type parsers, cannot). */
export function threadConnection(pool: PoolConfig): PoolConfig {
  const copyable = Object.entries(pool).filter(([, v]) => {
    try {
      structuredClone(v);
      return true;
    } catch {
      return false;
    }
  });
  // Kept open however long idle: a thread is needed under load, not after a warm-up.
  return { ...Object.fromEntries(copyable), max: 1, min: 1 };
}
