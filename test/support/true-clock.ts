export const precise = (): number => performance.timeOrigin + performance.now();

let calibrated: number | undefined;

/**
 * Wall clock − high-resolution clock in this process, read where Date.now()
 * ticks. A tick falls between two reads of Date.now(), each bracketed by
 * high-resolution reads; of five ticks the one seen through the narrowest
 * bracket wins, so a process descheduled mid-read (a busy machine) does not
 * skew the result. performance.timeOrigin alone is off by milliseconds,
 * differently in every process; the wall clock is the one clock all
 * processes of this machine share, and the farm clock (the store's) is this
 * machine's wall clock in tests and benchmarks. The busy loop takes about
 * 5 ms of a core: a farm calls this ahead of an instant it measures (the wall
 * clock may be slewed meanwhile, by far less than a millisecond over
 * seconds), not at it, where fifty processes' loops would delay each
 * other's swaps.
 */
export function calibrate(): number {
  let best = { width: Infinity, value: 0 };
  for (let i = 0; i < 5; i++) {
    let before = precise();
    const start = Date.now();
    for (;;) {
      const a = precise();
      const now = Date.now();
      const b = precise();
      if (now !== start) {
        // The tick came after the previous read began and before this one ended.
        if (b - before < best.width) best = { width: b - before, value: now - (before + b) / 2 };
        break;
      }
      before = a;
    }
  }
  calibrated = best.value;
  return calibrated;
}

/** The last calibration (made now if there is none). */
export function wallMinusPrecise(): number {
  return calibrated ?? calibrate();
}

/** True time (this machine's wall clock) with sub-millisecond resolution. */
export function trueNow(): number {
  return precise() + wallMinusPrecise();
}
