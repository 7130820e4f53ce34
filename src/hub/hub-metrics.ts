import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The hub's Prometheus metrics, on their own registry (served at /metrics). */
export class HubMetrics {
  readonly registry = new Registry();
  /** Same as corral_publishes_total, readable without a scrape (load reports). */
  publishedTotal = 0;
  readonly publishes = new Counter({ name: 'corral_publishes_total', help: 'Messages stored and acknowledged', registers: [this.registry] });
  readonly duplicates = new Counter({ name: 'corral_publish_duplicates_total', help: 'Retried publishes recognised by producer id and sequence', registers: [this.registry] });
  readonly deliveries = new Counter({ name: 'corral_deliveries_total', help: 'DELIVER frames sent', registers: [this.registry] });
  readonly acks = new Counter({ name: 'corral_acks_total', help: 'ACK frames that advanced a subscription', registers: [this.registry] });
  readonly errors = new Counter({ name: 'corral_errors_total', help: 'ERROR frames sent, by code', labelNames: ['code'] as const, registers: [this.registry] });
  readonly trimmed = new Counter({ name: 'corral_trimmed_total', help: 'Messages removed by garbage collection', registers: [this.registry] });
  readonly catchUpReads = new Counter({ name: 'corral_catchup_reads_total', help: 'Store reads for subscribers behind the in-memory tail', registers: [this.registry] });
  readonly connections = new Gauge({ name: 'corral_connections', help: 'Open client connections', registers: [this.registry] });
  readonly commitSeconds = new Histogram({
    name: 'corral_commit_seconds', help: 'Duration of one group commit (store append, durable)',
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1], registers: [this.registry],
  });
  readonly commitBatchRecords = new Histogram({
    name: 'corral_commit_batch_records', help: 'Records per group commit',
    buckets: [1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000], registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'corral_process_' });
  }

  /** Gauges computed from hub state at scrape time. */
  addCollector(name: string, help: string, labelNames: readonly string[], collect: (g: Gauge) => void): void {
    new Gauge({ name, help, labelNames, registers: [this.registry], collect() { collect(this); } });
  }
}
