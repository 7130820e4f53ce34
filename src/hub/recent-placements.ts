/**
 * Resources this hub placed on other hubs lately, which their load reports
 * may not show yet: a report refreshes once per lease renewal, so without
 * this a burst of new topics would all see the same "least-loaded" hub and
 * land on it together (Pulsar's load manager keeps "preallocated bundles"
 * for the same reason). Each placement counts as one topic of the target's
 * load until the window (about two of its reports) has passed.
 */
export class RecentPlacements {
  private readonly placed = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  record(hubId: string): void {
    const times = this.placed.get(hubId) ?? [];
    times.push(this.now());
    this.placed.set(hubId, times);
  }

  /** Placements on `hubId` within the window. */
  count(hubId: string): number {
    const times = this.placed.get(hubId);
    if (!times) return 0;
    const horizon = this.now() - this.windowMs;
    let expired = 0;
    while (expired < times.length && times[expired]! < horizon) expired++;
    if (expired === times.length) {
      this.placed.delete(hubId);
      return 0;
    }
    if (expired > 0) times.splice(0, expired);
    return times.length;
  }
}
