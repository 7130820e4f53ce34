/** One measurement: the offset (reference − local) lies in [low, high], as of local time `at`. */
interface Sample {
  low: number;
  high: number;
  at: number;
}

export interface OffsetEstimate {
  /** Reference time − local time, ms. */
  offset: number;
  /** The true offset is within ±errorBound of `offset`, ms. */
  errorBound: number;
}

/**
 * NTP-style offset estimation by interval intersection (Marzullo's idea with
 * every source trusted): each round trip bounds the offset between the
 * local clock and a reference clock; bounds age by the clocks' relative
 * drift; the estimate is the middle of the intersection of the `keep`
 * narrowest bounds (the lowest-delay round trips), and its half-width is an
 * error bound that holds as long as the drift stays under `driftPpm`.
 */
export class OffsetEstimator {
  private samples: Sample[] = [];

  constructor(
    private readonly driftPpm = 100,
    private readonly keep = 8,
  ) {}

  get size(): number {
    return this.samples.length;
  }

  add(low: number, high: number, at: number): void {
    this.samples.push({ low, high, at });
    this.samples.sort((a, b) => this.width(a, at) - this.width(b, at));
    this.samples.length = Math.min(this.samples.length, this.keep);
  }

  clear(): void {
    this.samples = [];
  }

  estimate(now: number): OffsetEstimate | undefined {
    let low = -Infinity;
    let high = Infinity;
    for (const s of this.samples) {
      const grow = this.grow(s, now);
      low = Math.max(low, s.low - grow);
      high = Math.min(high, s.high + grow);
    }
    if (this.samples.length === 0) return undefined;
    if (low > high) {
      // The bounds disagree: a clock stepped or drifted past driftPpm. Trust the newest only.
      const newest = this.samples.reduce((a, b) => (b.at > a.at ? b : a));
      this.samples = [newest];
      return this.estimate(now);
    }
    return { offset: (low + high) / 2, errorBound: (high - low) / 2 };
  }

  private grow(s: Sample, now: number): number {
    return Math.abs(now - s.at) * this.driftPpm / 1e6;
  }

  private width(s: Sample, now: number): number {
    return s.high - s.low + 2 * this.grow(s, now);
  }
}
