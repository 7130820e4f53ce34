import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import type { HubLoad } from './hub-record.js';

export interface LoadSource {
  readonly topicCount: number;
  readonly connectionCount: number;
  /** Load of the service resources owned, in topic units. */
  serviceLoad(): number;
  /** Messages published since start. */
  publishedTotal(): number;
}

const RESOLUTION_MS = 20;
/**
 * Time constant of the moving averages of event-loop delay and utilization.
 * Both spike for a moment in a burst, a garbage collection or a neighbour's
 * burst on a shared machine; placement and rebalancing should weigh a hub
 * that stays busy, not one that hiccuped during the last renewal.
 */
const SMOOTHING_MS = 10_000;

/** Samples the hub's load for its cluster record: topics, message rate, connections, event-loop delay. */
export class LoadSampler {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private lastTotal = 0;
  private lastAt = performance.now();
  private rate = 0;
  private lag = 0;
  private busy = 0;
  private smoothedAt = performance.now();
  private elu: EventLoopUtilization = performance.eventLoopUtilization();

  constructor(private readonly source: LoadSource) {
    this.delay.enable();
  }

  sample(): HubLoad {
    const now = performance.now();
    const total = this.source.publishedTotal();
    const elapsed = (now - this.lastAt) / 1000;
    if (elapsed > 0.2) {
      // Smooth, so one burst does not make a hub look idle or swamped.
      this.rate = 0.5 * this.rate + 0.5 * ((total - this.lastTotal) / elapsed);
      this.lastTotal = total;
      this.lastAt = now;
    }
    // The sampling timer's own period is part of every reading.
    const p99 = Math.max(0, this.delay.percentile(99) / 1e6 - RESOLUTION_MS);
    this.delay.reset();
    const elu = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(elu, this.elu).utilization;
    this.elu = elu;
    const weight = 1 - Math.exp(-(now - this.smoothedAt) / SMOOTHING_MS);
    this.lag += weight * (p99 - this.lag);
    if (Number.isFinite(utilization)) this.busy += weight * (utilization - this.busy);
    this.smoothedAt = now;
    return {
      topics: this.source.topicCount,
      services: Math.round(this.source.serviceLoad() * 10) / 10,
      msgRate: Math.round(this.rate),
      connections: this.source.connectionCount,
      lagMs: Math.round(this.lag * 10) / 10,
      busy: Math.round(this.busy * 1000) / 1000,
    };
  }

  stop(): void {
    this.delay.disable();
  }
}
