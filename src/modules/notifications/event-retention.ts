import type { Logger } from 'pino';
/** What a retention job prunes: the event log (EventsService), moderators' sealed texts. */
export interface Prunable {
  prune(retentionDays: number): Promise<number>;
}

/** How often the app prunes its event log (it also prunes once at start). */
export const EVENT_RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The periodic job that deletes event-log entries older than EVENT_RETENTION_DAYS (by the
 * injected clock, through EventsService.prune). Owned by the app: started in createApp,
 * stopped in close(). The timer is unref'd so it never keeps a process alive. Several
 * instances may run it at once: each run is one plain DELETE by created_at, so concurrent
 * runs only race to delete the same rows. Cursors of the remaining events never change.
 */
export class EventRetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;
  /** Completed runs, and rows deleted by the last one (tests and logs read them). */
  runs = 0;
  lastDeleted = 0;

  constructor(
    private readonly events: Prunable,
    private readonly retentionDays: number,
    private readonly logger: Logger,
    private readonly intervalMs: number = EVENT_RETENTION_INTERVAL_MS,
    /** For the logs: what is pruned. */
    private readonly what: string = 'events',
  ) {}

  start(): this {
    if (this.timer || this.stopped) return this;
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** One prune now (joins a run already in progress); resolves with rows deleted, never rejects. */
  runOnce(): Promise<number> {
    if (this.running) return this.running;
    if (this.stopped) return Promise.resolve(0);
    this.running = this.events
      .prune(this.retentionDays)
      .then(
        (deleted) => {
          if (deleted > 0) this.logger.info({ deleted, retentionDays: this.retentionDays }, `pruned old ${this.what}`);
          return deleted;
        },
        (err: Error) => {
          // The database may be briefly unreachable; the next run catches up.
          this.logger.warn({ err: err.message }, `${this.what} pruning failed; will retry`);
          return 0;
        },
      )
      .then((deleted) => {
        this.runs++;
        this.lastDeleted = deleted;
        this.running = null;
        return deleted;
      });
    return this.running;
  }

  /** Stops the timer and waits for a run in progress, so the database can close after it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
