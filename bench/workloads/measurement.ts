/** What one run of a workload measured. */
export type Measurement = Throughput | Latency | Memory;

/** The server's side of one run, where the server is one process (bench-system.ts ServerCounters). */
export interface ServerCost {
  /** Bytes written to storage per message counted. */
  bytesPerMessage: number;
  eventLoopP99Ms: number | undefined;
  /** Mean records per group commit over the run (Corral). */
  recordsPerCommit: number | undefined;
  /** VmRSS after the run, bytes. */
  rssAfter: number;
}

export interface Throughput {
  kind: 'throughput';
  server?: ServerCost;
  /** Messages (W3: deliveries) counted. */
  count: number;
  seconds: number;
  perSecond: number;
}

/** Milliseconds. */
export interface Latency {
  kind: 'latency';
  server?: ServerCost;
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Bytes. */
export interface Memory {
  kind: 'memory';
  messages: number;
  reported: { rss: number; heapUsed: number } | undefined;
  vmRss: number;
  vmHwm: number;
}

export function throughput(count: number, seconds: number): Throughput {
  return { kind: 'throughput', count, seconds, perSecond: count / seconds };
}
