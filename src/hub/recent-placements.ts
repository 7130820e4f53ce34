/** A hub's score when this hub began placing resources on it, and how many it placed since. */
interface Placed {
  baseline: number;
  count: number;
  lastAt: number;
}

/**
 * Resources this hub placed on other hubs lately, which their load reports
 * may not show yet: a report refreshes once per lease renewal, so without
 * this a burst of new topics would all see the same "least-loaded" hub and
 * land on it together (Pulsar's load manager keeps "preallocated bundles"
 * for the same reason). A target counts as at least its score when the
 * burst began plus what was placed on it since; once its own report shows
 * more, the report wins, so nothing is counted twice. A placement is
 * forgotten a window (about two reports) after the last one.
 */
export class RecentPlacements {
  private readonly placed = new Map<string, Placed>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** One more resource placed on `hubId`, whose reported score is `reported`. */
  record(hubId: string, reported: number): void {
    const p = this.current(hubId);
    if (p) {
      p.count++;
      p.lastAt = this.now();
    } else {
      this.placed.set(hubId, { baseline: reported, count: 1, lastAt: this.now() });
    }
  }

  /** The score to compare `hubId` by, given its reported score. */
  effective(hubId: string, reported: number): number {
    const p = this.current(hubId);
    return p ? Math.max(reported, p.baseline + p.count) : reported;
  }

  private current(hubId: string): Placed | undefined {
    const p = this.placed.get(hubId);
    if (p && this.now() - p.lastAt > this.windowMs) {
      this.placed.delete(hubId);
      return undefined;
    }
    return p;
  }
}
