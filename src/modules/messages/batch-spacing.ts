/** How the batch thread spaces its batches under load (ThreadData.spacing). */
export interface BatchSpacing {
  /** Times the recent batch time (BEGIN to COMMIT); 0: no spacing. */
  factor: number;
  /** The most a batch waits after the one before it started (ms). */
  maxMs: number;
}

/**
 * How long the next batch should still wait (ms; 0: start now). Under load a batch starts
 * no sooner than `factor` × the recent batch time after the last one started, and never
 * later than `maxMs` after it. A batch costs PostgreSQL and both threads about the same
 * whatever its size, so where commits are slow, waiting a fraction of a batch time longer
 * makes each carry more sends for less CPU per message; the wait grows with the batch time
 * (a few milliseconds where commits are fast and latency is the point). A send that finds
 * the thread idle (the last batch started longer ago than that) or a full batch never
 * waits.
 */
export function spacingWaitMs(o: { nowMs: number; lastStartMs: number; batchMs: number; waitingSends: number; maxBatch: number; spacing: BatchSpacing }): number {
  if (o.waitingSends >= o.maxBatch) return 0;
  return Math.max(0, spacingGapMs(o.batchMs, o.spacing) - (o.nowMs - o.lastStartMs));
}

/** Under load, the least time from one batch's start to the next's (ms): what a round of batches takes at the least. */
export function spacingGapMs(batchMs: number, spacing: BatchSpacing): number {
  return Math.min(spacing.maxMs, spacing.factor * batchMs);
}
