import { AppError } from './errors';

const TICK_MS = 10;

/**
 * Load shedding on event-loop lag, before an operation runs. When the process cannot keep
 * up (more sends offered than its CPU can execute), frames wait in the socket buffers and
 * in the loop, where no queue limit sees them: every answer comes late, the accepted ones
 * too. Refusing before parsing variables and executing costs a small fraction of running
 * the operation, so while the loop lags the process answers the excess at once
 * (SERVICE_UNAVAILABLE with retryAfter) and what it accepts is answered in time.
 *
 * The lag is how late a 10 ms timer fires: the last one measured, or, while the loop is
 * inside a long turn (the timer cannot fire yet), how long it has been due.
 */
export class OverloadGuard {
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private lastLag = 0;

  /** `maxLagMs` 0: never sheds. */
  constructor(private readonly maxLagMs: number) {}

  start(): void {
    if (this.maxLagMs <= 0 || this.timer) return;
    this.due = Date.now() + TICK_MS;
    this.timer = setInterval(() => {
      const now = Date.now();
      this.lastLag = Math.max(0, now - this.due);
      this.due = now + TICK_MS;
    }, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The loop's lag now, in ms. */
  lagMs(): number {
    if (!this.timer) return 0;
    return Math.max(this.lastLag, Date.now() - this.due);
  }

  /** The refusal for an operation arriving now, or null to run it. */
  refusal(): AppError | null {
    if (this.maxLagMs <= 0 || this.lagMs() <= this.maxLagMs) return null;
    return OverloadGuard.refusalError();
  }

  /** What an operation refused for overload is answered. */
  static refusalError(): AppError {
    return new AppError('SERVICE_UNAVAILABLE', 'The server is overloaded right now; retry shortly', { retryAfter: 1, retryable: true });
  }
}
