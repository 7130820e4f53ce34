/** The timer fires this early; a blocking wait covers the rest (see `atInstant`). */
export const WAKE_EARLY_MS = 4;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` (sub-millisecond precise: a futex wait, no spinning). */
export function sleepBlocking(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Calls `fire` when `left()` (ms to an instant, by whatever clock the caller
 * reads) reaches zero, or at once if it has passed. A timer wakes the process
 * WAKE_EARLY_MS early (timers have 1 ms steps and wake late on a busy
 * machine) and a blocking wait, which sleeps in the kernel rather than
 * spinning, covers the rest: fifty processes on two cores spinning through
 * the same millisecond would delay each other. Returns a cancel function.
 */
export function atInstant(left: () => number, fire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    const ms = left();
    if (ms > WAKE_EARLY_MS) {
      timer = setTimeout(check, ms - WAKE_EARLY_MS);
      return;
    }
    if (ms > 0) sleepBlocking(ms);
    fire();
  };
  check();
  return () => clearTimeout(timer);
}
