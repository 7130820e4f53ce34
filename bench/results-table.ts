import { markdownTable } from './markdown-table.js';
import type { Latency, Measurement, Memory, ServerCost, Throughput } from './workloads/measurement.js';
import type { Workload } from './workloads/workload.js';

/** The (median) result of one workload on one system variant, or why it failed. */
export interface ResultRow {
  system: string;
  durability: string;
  outcome: Measurement | Error;
}

const CORRAL = 'corral';
/** Corral rows: "corral", or a variant of it such as "corral 3 hubs/pg"; every other system is a peer. */
const isCorral = (system: string): boolean => system === CORRAL || system.startsWith(`${CORRAL} `);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => n.toFixed(3);
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

const SERVER_HEADER = ['B written / msg', 'loop delay p99 ms', 'RSS after MB'];

/** The server's columns: bytes written to storage per message, its event-loop delay p99 (Corral), its memory after the run. */
function serverColumns(cost: ServerCost | undefined): string[] {
  if (cost === undefined) return ['—', '—', '—'];
  return [int(cost.bytesPerMessage), cost.eventLoopP99Ms === undefined ? '—' : ms(cost.eventLoopP99Ms), mb(cost.rssAfter)];
}

function failed(row: ResultRow): string {
  const message = row.outcome instanceof Error ? row.outcome.message.split('\n')[0]! : '';
  return `failed: ${message.slice(0, 100)}`;
}

/** Rows that measured a `kind`, with their measurement. */
function measured<M extends Measurement>(rows: readonly ResultRow[], kind: M['kind']): Array<ResultRow & { outcome: M }> {
  return rows.filter((r): r is ResultRow & { outcome: M } => !(r.outcome instanceof Error) && r.outcome.kind === kind);
}

/** The peer with the best figure (`better(a, b)` true when a beats b), if any peer measured. */
function bestPeer<M extends Measurement>(rows: readonly ResultRow[], kind: M['kind'], better: (a: M, b: M) => boolean): (ResultRow & { outcome: M }) | undefined {
  let best: (ResultRow & { outcome: M }) | undefined;
  for (const r of measured<M>(rows, kind)) {
    if (!isCorral(r.system) && (!best || better(r.outcome, best.outcome))) best = r;
  }
  return best;
}

function throughputTable(w: Workload, rows: readonly ResultRow[]): string {
  const best = bestPeer<Throughput>(rows, 'throughput', (a, b) => a.perSecond > b.perSecond);
  const header = ['system', 'durability', w.unit ?? 'msgs/s', ...(best ? ['vs best peer'] : []), ...SERVER_HEADER];
  return markdownTable(header, rows.map((r) => {
    if (r.outcome instanceof Error || r.outcome.kind !== 'throughput') return [r.system, r.durability, failed(r), ...(best ? [''] : []), '', '', ''];
    const ratio = best && isCorral(r.system) ? `${(r.outcome.perSecond / best.outcome.perSecond).toFixed(2)}× ${best.system}` : '—';
    return [r.system, r.durability, int(r.outcome.perSecond), ...(best ? [ratio] : []), ...serverColumns(r.outcome.server)];
  }));
}

function latencyTable(rows: readonly ResultRow[]): string {
  const best = bestPeer<Latency>(rows, 'latency', (a, b) => a.p99 < b.p99);
  const header = ['system', 'durability', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', ...(best ? ['vs best peer (p99)'] : []), ...SERVER_HEADER];
  return markdownTable(header, rows.map((r) => {
    if (r.outcome instanceof Error || r.outcome.kind !== 'latency') return [r.system, r.durability, failed(r), '', '', '', ...(best ? [''] : []), '', '', ''];
    const o = r.outcome;
    const ratio = best && isCorral(r.system) ? `${(best.outcome.p99 / o.p99).toFixed(2)}× ${best.system}` : '—';
    return [r.system, r.durability, ms(o.p50), ms(o.p99), ms(o.p999), ms(o.max), ...(best ? [ratio] : []), ...serverColumns(o.server)];
  }));
}

function memoryTable(rows: readonly ResultRow[]): string {
  const header = ['system', 'durability', 'messages', 'RSS (/api/stats) MB', 'heap used MB', 'VmRSS MB', 'VmHWM MB'];
  return markdownTable(header, rows.map((r) => {
    if (r.outcome instanceof Error || r.outcome.kind !== 'memory') return [r.system, r.durability, failed(r), '', '', '', ''];
    const o: Memory = r.outcome;
    const own = (v: number | undefined): string => (v === undefined ? '—' : mb(v));
    return [r.system, r.durability, int(o.messages), own(o.reported?.rss), own(o.reported?.heapUsed), mb(o.vmRss), mb(o.vmHwm)];
  }));
}

/**
 * One workload's table: a row per system variant. Ratios compare Corral with
 * the best peer: throughput Corral ÷ peer, latency peer p99 ÷ Corral p99, so
 * above 1 means Corral is ahead either way.
 */
export function resultsTable(w: Workload, rows: readonly ResultRow[]): string {
  switch (w.metric) {
    case 'throughput': return throughputTable(w, rows);
    case 'latency': return latencyTable(rows);
    case 'memory': return memoryTable(rows);
  }
}
