import type { MetadataStore } from '../../store/metadata-store.js';
import { OffsetEstimator, type OffsetEstimate } from './offset-estimator.js';

/** The store's clock reads whole milliseconds, rounded down (SQLite Date.now(), PostgreSQL floor()). */
const STORE_RESOLUTION_MS = 1;

/**
 * The hub's estimate of the store's clock (`MetadataStore.now()`, the one
 * clock every hub of a cluster shares), so a time request is answered
 * without a store round trip. Re-measured every `refreshMs` with a few round
 * trips; each bounds the store clock between the local clock's readings
 * before and after it.
 */
export class StoreClock {
  private readonly estimator = new OffsetEstimator();
  private timer: NodeJS.Timeout | undefined;
  private measuring: Promise<void> | undefined;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly local: () => number,
    private readonly opts: { refreshMs: number; rounds: number },
  ) {}

  async start(): Promise<void> {
    await this.measure();
    this.timer = setInterval(() => { this.measure().catch(() => undefined); }, this.opts.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Farm time now and its error bound, ms. */
  async read(): Promise<{ time: number; errorBound: number }> {
    const now = this.local();
    let e: OffsetEstimate | undefined = this.estimator.estimate(now);
    if (e === undefined) {
      await this.measure();
      e = this.estimator.estimate(this.local())!;
    }
    const at = this.local();
    return { time: at + e.offset, errorBound: e.errorBound };
  }

  measure(): Promise<void> {
    this.measuring ??= (async () => {
      for (let i = 0; i < this.opts.rounds; i++) {
        const t0 = this.local();
        const s = await this.metadata.now();
        const t1 = this.local();
        // The store read s at some local instant in [t0, t1]; its clock was then in [s, s + resolution).
        this.estimator.add(s - t1, s + STORE_RESOLUTION_MS - t0, t1);
        // Spread the reads over the millisecond, so their bounds intersect narrower.
        await new Promise((r) => setTimeout(r, 0.3 * i));
      }
    })().finally(() => { this.measuring = undefined; });
    return this.measuring;
  }
}
