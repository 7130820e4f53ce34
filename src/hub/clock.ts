/** Injectable time source, so tests and services can skew it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
