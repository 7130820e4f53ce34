import type { Latency, Measurement, Memory, ServerCost, Throughput } from './workloads/measurement.js';

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median of each server figure across runs, where every run has them. */
function medianCost(costs: ReadonlyArray<ServerCost | undefined>): ServerCost | undefined {
  const all = costs.filter((c): c is ServerCost => c !== undefined);
  if (all.length === 0 || all.length < costs.length) return undefined;
  const everyRun = (pick: (c: ServerCost) => number | undefined): number | undefined => {
    const values = all.map(pick).filter((v): v is number => v !== undefined);
    return values.length === all.length ? median(values) : undefined;
  };
  return {
    bytesPerMessage: median(all.map((c) => c.bytesPerMessage)),
    eventLoopP99Ms: everyRun((c) => c.eventLoopP99Ms),
    recordsPerCommit: everyRun((c) => c.recordsPerCommit),
    rssAfter: median(all.map((c) => c.rssAfter)),
  };
}

/**
 * The median of every figure across runs of one workload on one system, each
 * figure on its own (all runs of a row measure the same kind).
 */
export function medianOf(runs: readonly Measurement[]): Measurement {
  const first = runs[0];
  if (first === undefined) throw new Error('no runs');
  switch (first.kind) {
    case 'throughput': {
      const rs = runs as readonly Throughput[];
      return { ...first, seconds: median(rs.map((r) => r.seconds)), perSecond: median(rs.map((r) => r.perSecond)), server: medianCost(rs.map((r) => r.server)) };
    }
    case 'latency': {
      const rs = runs as readonly Latency[];
      return {
        ...first,
        p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), p999: median(rs.map((r) => r.p999)), max: median(rs.map((r) => r.max)),
        server: medianCost(rs.map((r) => r.server)),
      };
    }
    case 'memory': {
      const rs = runs as readonly Memory[];
      const reported = rs.every((r) => r.reported !== undefined)
        ? { rss: median(rs.map((r) => r.reported!.rss)), heapUsed: median(rs.map((r) => r.reported!.heapUsed)) }
        : undefined;
      return { ...first, reported, vmRss: median(rs.map((r) => r.vmRss)), vmHwm: median(rs.map((r) => r.vmHwm)) };
    }
  }
}
