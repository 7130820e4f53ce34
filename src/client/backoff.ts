export interface BackoffOptions {
  /** Delay before the first retry. */
  initialDelayMs: number;
  /** Upper bound of the delay. */
  maxDelayMs: number;
}

/**
 * Exponential backoff with jitter: attempt 0 waits about initialDelayMs, each
 * later attempt twice as long up to maxDelayMs. The random half spreads the
 * reconnects of many clients after a hub restart.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
}
