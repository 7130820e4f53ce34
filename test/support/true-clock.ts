export const precise = (): number => performance.timeOrigin + performance.now();

let calibrated: number | undefined;

/**
 * Wall clock − high-resolution clock in this process, read at the instant
 * Date.now() ticks, so it is exact to the busy loop's step.
 * performance.timeOrigin alone is off by milliseconds, differently in every
 * process; the wall clock is the one clock all processes of this machine
 * share, and the farm clock (the store's) is this machine's wall clock in
 * tests and benchmarks. The busy loop takes up to 3 ms of a core: a farm
 * calls this ahead of an instant it measures (the wall clock may be slewed
 * meanwhile, by far less than a millisecond over seconds), not at it, where
 * fifty processes' loops would delay each other's swaps.
 */
export function calibrate(): number {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = Date.now();
    let p = precise();
    let now = Date.now();
    while (now === start) {
      p = precise();
      now = Date.now();
    }
    samples.push(now - p);
  }
  calibrated = samples.sort((a, b) => a - b)[samples.length >> 1]!;
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
