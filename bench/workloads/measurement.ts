/** What one run of a workload measured. */
export type Measurement = Throughput | Latency | Memory;

export interface Throughput {
  kind: 'throughput';
  /** Messages (W3: deliveries) counted. */
  count: number;
  seconds: number;
  perSecond: number;
}

/** Milliseconds. */
export interface Latency {
  kind: 'latency';
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
