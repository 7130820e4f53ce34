import type { BenchSystem } from '../bench-system.js';
import type { Measurement } from './measurement.js';

export interface WorkloadSettings {
  /** Multiplies every message count (1 = the definitions in docs/benchmarks.md). */
  scale: number;
  /** M1 at its full size: 10,000 unacknowledged messages per topic instead of 1,000. */
  full: boolean;
}

/** One workload, defined once and run unchanged against every system. */
export interface Workload {
  readonly id: string;
  readonly metric: Measurement['kind'];
  /** Column heading of a throughput figure. */
  readonly unit?: 'msgs/s' | 'deliveries/s';
  /**
   * Measured on one Corral hub only, with the first durability asked for: it
   * reads the hub's own figures, and they do not depend on durability.
   */
  readonly hubOnly?: boolean;
  /**
   * The machine's floor a Corral figure is read against: `append-loop`, a
   * bare append + fdatasync loop at the run's records per commit (what
   * publishing durably is bound by); `round-trip`, one fdatasync plus one
   * TCP round trip (a publish's way to its subscriber). None where
   * neither bounds the figure (reads, fan-out).
   */
  readonly floor?: 'append-loop' | 'round-trip';
  title(settings: WorkloadSettings): string;
  run(system: BenchSystem, settings: WorkloadSettings): Promise<Measurement>;
}

export function scaled(count: number, settings: WorkloadSettings): number {
  return Math.max(1, Math.round(count * settings.scale));
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}
