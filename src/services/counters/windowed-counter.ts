import { CorralError } from '../../protocol/corral-error.js';

/** A clock read in ms since the epoch: the farm clock (`FarmClock`), so every member agrees on the window. */
export interface WindowClock {
  now(): number;
}

export interface WindowedOptions {
  /** Length of a window, ms of farm time; window i covers [i × windowMs, (i + 1) × windowMs). */
  windowMs: number;
  /** Default: a farm clock started on the member's client (`FarmClock`). */
  clock?: WindowClock;
}

/** What a windowed counter needs of its member (`Counters`). */
export interface WindowHost {
  increment(name: string, n: bigint | number): void;
  value(name: string): bigint;
  local(name: string): bigint;
  /** Drops a variable from the member's memory once what it holds of it was delivered. */
  retire(name: string): void;
}

/**
 * A counter that starts again from zero at every window boundary of the farm
 * clock (rate limits: "at most 1,000 calls per minute across the fleet").
 * Window i is its own variable, `<name>@<i>`: members switch to the next one
 * at the same farm-clock instant (within the clock's error bound), and a
 * window's count is exact once its last increments are delivered. A window
 * that has ended is retired from the member's memory after its last
 * exchange; the root and branches keep the newest WINDOWS_KEPT of each
 * counter (ended-windows.ts, docs/counters.md).
 */
export class WindowedCounter {
  private current: number;

  constructor(private readonly host: WindowHost, readonly name: string, private readonly windowMs: number, private readonly clock: WindowClock) {
    if (!Number.isSafeInteger(windowMs) || windowMs < 1) throw new CorralError('INVALID_ARGUMENT', `windowMs must be a whole number of ms, at least 1, not ${windowMs}`);
    this.current = this.indexAt(clock.now());
  }

  /** The window farm time is in now. */
  get windowIndex(): number {
    return this.roll();
  }

  /** Farm time (ms) at which the current window ends. */
  get windowEndsAt(): number {
    return (this.roll() + 1) * this.windowMs;
  }

  /** The variable of window `index` (default: the current one). */
  variable(index = this.roll()): string {
    return `${this.name}@${index}`;
  }

  /** Counts `n` in the current window (a local operation, like `Counters.increment`). */
  increment(n: bigint | number = 1n): void {
    this.host.increment(this.variable(), n);
  }

  /** The global count of the current window, as this member knows it. */
  value(): bigint {
    return this.host.value(this.variable());
  }

  /** This member's own count in the current window. */
  local(): bigint {
    return this.host.local(this.variable());
  }

  private indexAt(t: number): number {
    return Math.floor(t / this.windowMs);
  }

  /** Moves to the window of farm time now; the one left is retired (dropped once delivered). */
  private roll(): number {
    const i = this.indexAt(this.clock.now());
    if (i > this.current) {
      this.host.retire(this.variable(this.current));
      this.current = i;
    }
    return this.current;
  }
}
