import { AppError } from './errors';

const TICK_MS = 10;

/**
 * A turn over the threshold means overload only if another one came within this long
 * before it. One long turn alone (a major GC, the host stealing the CPU for a moment)
 * leaves a backlog the process clears at once; refusing what arrived during it refused
 * ~100 sends at 1000 msg/s, a rate the process keeps up with. Under real overload long
 * turns keep coming, also while shedding makes every other turn short.
 */
const SUSTAINED_WITHIN_MS = 1000;

/**
 * Load shedding on event-loop lag, before an operation runs. When the process cannot keep
 * up (more sends offered than its CPU can execute), frames wait in the socket buffers and
 * in the loop, where no queue limit sees them: every answer comes late, the accepted ones
 * too. Refusing before parsing variables and executing costs a small fraction of running
 * the operation, so while the loop lags the process answers the excess at once
 * (SERVICE_UNAVAILABLE with retryAfter) and what it accepts is answered in time.
 *
 * The lag is how late a 10 ms timer fires: the last one measured, or, while the loop is
 * inside a long turn (the timer cannot fire yet), how long it has been due. It sheds
 * while the lag is over `maxLagMs` and another long turn came within the second before
 * (SUSTAINED_WITHIN_MS).
 */
export class OverloadGuard {
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private lastLag = 0;
  /** When the last two long turns ended (their lag measured over `maxLagMs`). */
  private lastLongAt = -Infinity;
  private longBeforeAt = -Infinity;

  /** `maxLagMs` 0: never sheds. */
  constructor(private readonly maxLagMs: number) {}

  start(): void {
    if (this.maxLagMs <= 0 || this.timer) return;
    this.due = Date.now() + TICK_MS;
    this.timer = setInterval(() => {
      const now = Date.now();
      this.lastLag = Math.max(0, now - this.due);
      if (this.lastLag > this.maxLagMs) {
        this.longBeforeAt = this.lastLongAt;
        this.lastLongAt = now;
      }
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

  /** How long ago the last long turn (lag over `maxLagMs`) ended; Infinity if none yet (tests). */
  msSinceLongTurn(): number {
    return Date.now() - this.lastLongAt;
  }

  /** The refusal for an operation arriving now, or null to run it. */
  refusal(): AppError | null {
    return this.shedding() ? OverloadGuard.refusalError() : null;
  }

  /**
   * Whether an operation arriving now is refused: the loop lags now, and lagged shortly
   * before too. Asked for every frame under load: it builds no error (ws-shed.ts answers
   * with a frame serialised once).
   */
  shedding(): boolean {
    if (!this.timer) return false;
    const now = Date.now();
    const inTurn = now - this.due;
    // Inside a long turn: the one before it ended recently.
    if (inTurn > this.maxLagMs) return now - inTurn - this.lastLongAt <= SUSTAINED_WITHIN_MS;
    // Just after a long turn: the one before that ended recently.
    return this.lastLag > this.maxLagMs && this.lastLongAt - this.longBeforeAt <= SUSTAINED_WITHIN_MS;
  }

  /** What an operation refused for overload is answered. */
  static refusalError(): AppError {
    return new AppError('SERVICE_UNAVAILABLE', 'The server is overloaded right now; retry shortly', { retryAfter: 1, retryable: true });
  }
}
