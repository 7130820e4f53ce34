export const precise = (): number => performance.timeOrigin + performance.now();

let calibrated = { at: -Infinity, value: 0 };

/**
 * Wall clock − high-resolution clock in this process, read at the instant
 * Date.now() ticks, so it is exact to the busy loop's step (re-read once a
 * second: the wall clock may be slewed meanwhile). performance.timeOrigin
 * alone is off by milliseconds, differently in every process; the wall
 * clock is the one clock all processes of this machine share, and the farm
 * clock (the store's) is this machine's wall clock in tests and benchmarks.
 */
export function wallMinusPrecise(): number {
  if (performance.now() - calibrated.at < 1000) return calibrated.value;
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
  calibrated = { at: performance.now(), value: samples.sort((a, b) => a - b)[samples.length >> 1]! };
  return calibrated.value;
}

/** True time (this machine's wall clock) with sub-millisecond resolution. */
export function trueNow(): number {
  return precise() + wallMinusPrecise();
}
