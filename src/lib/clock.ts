/**
 * Every rule that depends on time (ages, expiry, the rolling daily limit) asks the clock,
 * never `new Date()`, so tests can move time across a birthday or a TTL.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can set and advance; it still ticks so ordering by time stays real. */
export class AdjustableClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  set(date: Date): void {
    this.offsetMs = date.getTime() - Date.now();
  }
  reset(): void {
    this.offsetMs = 0;
  }
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
