import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { PoolConfig } from 'pg';
import { startWorker } from '../../lib/worker-thread';
import { BatchVerdictMismatch, type BatchSql, type QueuedSend, type RateWindow, type RawBatch } from './send-batch-core';

/** What the thread starts with: its connections' settings (the app pool's) and the batch's statements. */
export interface ThreadData {
  connection: PoolConfig;
  sql: BatchSql;
}

export type ThreadRequest = { id: number; sends: QueuedSend[]; nowMs: number; rate: RateWindow } | { id: number; close: true };

export type ThreadReply =
  | { id: number; batch: RawBatch; statements: string[]; retried: number }
  | { id: number; error: { message: string; code?: string; mismatch: boolean } }
  | { id: number; closed: true }
  | { id: 0; ready: true };

export interface CommittedBatch {
  batch: RawBatch;
  /** Every statement sent, BEGIN and COMMIT included (the app logs them as its own). */
  statements: string[];
  /** Times the transaction ran again after a deadlock or serialization failure. */
  retried: number;
}

const ENTRY = path.join(__dirname, 'send-batch-thread.worker');

/**
 * Runs send batches' transactions on a worker thread with its own connections. Under load
 * the main thread's event loop turns in tens to hundreds of milliseconds (thousands of
 * socket frames per turn), and a batch on the main thread waits a turn for each of its four
 * round trips (BEGIN, two statements, COMMIT) while holding its pairs' locks. On the thread
 * a batch takes what PostgreSQL takes, and the main thread only hands over the sends and
 * takes back the decisions (plain data, send-batch-core.ts), once per batch.
 *
 * `run` resolves once the batch has committed; it rejects with the transaction's error
 * (rolled back), or with a connection failure (SQLSTATE 08006) when the thread died with
 * the batch in flight: the commit's outcome is then unknown, as after a lost connection.
 */
export class SendBatchThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(reply: ThreadReply): void; reject(err: Error): void }>();
  private closing = false;
  private readonly started: Promise<void>;
  private markStarted: () => void = () => undefined;

  /** Starts the thread, which opens its connections and prepares its statements at once. */
  constructor(private readonly data: ThreadData) {
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

  run(sends: QueuedSend[], now: Date, rate: RateWindow): Promise<CommittedBatch> {
    return this.ask({ id: this.nextId++, sends, nowMs: now.getTime(), rate }).then((reply) => {
      if ('batch' in reply) return reply;
      if ('error' in reply) {
        const { message, code, mismatch } = reply.error;
        throw Object.assign(mismatch ? new BatchVerdictMismatch(message) : new Error(message), code ? { code } : {});
      }
      throw new Error('send batch thread answered a batch as closed');
    });
  }

  /** Ends the thread's connections, then the thread. */
  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    await this.ask({ id: this.nextId++, close: true }).catch(() => undefined);
    await worker.terminate();
  }

  private ask(req: ThreadRequest): Promise<ThreadReply> {
    if (this.closing && !('close' in req)) return Promise.reject(Object.assign(new Error('Connection terminated: the server is closing'), { code: '08006' }));
    const worker = this.worker ?? this.start();
    return new Promise<ThreadReply>((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      worker.postMessage(req);
    });
  }

  private start(): Worker {
    const worker = startWorker(ENTRY, { workerData: this.data });
    worker.on('message', (reply: ThreadReply) => {
      if ('ready' in reply) return this.markStarted();
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiting?.resolve(reply);
    });
    const lost = (why: string) => {
      if (this.worker === worker) this.worker = null;
      const err = Object.assign(new Error(`Connection terminated: the send batch thread ${why}`), { code: '08006' });
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
      this.markStarted();
    };
    worker.on('error', (err) => lost(`failed (${err.message})`));
    worker.on('exit', (code) => lost(`exited (${code})`));
    // The app's close() ends it; a forgotten app must not keep the process alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

/** The app pool's settings a thread can take: those that can be copied to it (functions, such as type parsers, cannot). */
export function threadConnection(pool: PoolConfig, max: number): PoolConfig {
  const copyable = Object.entries(pool).filter(([, v]) => {
    try {
      structuredClone(v);
      return true;
    } catch {
      return false;
    }
  });
  // Kept open however long idle: a thread is needed under load, not after a warm-up.
  return { ...Object.fromEntries(copyable), max, min: max };
}
