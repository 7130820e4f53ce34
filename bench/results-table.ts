import type { MachineFloor } from './machine-floor.js';
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

/**
 * A Corral publish rate against the bare append + fdatasync loop of the
 * same run, at the measured batch size nearest to the run's records per
 * commit (the loop is the fsync mode's floor; `process` has none on disk).
 */
function appendLoopRatio(r: ResultRow, o: Throughput, floor: MachineFloor): string {
  const perCommit = o.server?.recordsPerCommit;
  if (!isCorral(r.system) || r.durability !== 'fsync' || perCommit === undefined) return '—';
  let nearest: [number, number] | undefined;
  for (const [batch, rate] of floor.appendLoop) {
    if (!nearest || Math.abs(Math.log(batch / perCommit)) < Math.abs(Math.log(nearest[0] / perCommit))) nearest = [batch, rate];
  }
  if (!nearest) return '—';
  return `${(o.perSecond / nearest[1]).toFixed(2)}× loop of ${nearest[0]} (${int(perCommit)} per commit)`;
}

/** A Corral p99 against one fdatasync (fsync mode) plus one TCP round trip, both p99, of the same run. */
function roundTripRatio(r: ResultRow, o: Latency, floor: MachineFloor): string {
  if (!isCorral(r.system)) return '—';
  const floorMs = (r.durability === 'fsync' ? floor.fdatasync.p99 : 0) + floor.tcpRoundTrip.p99;
  return `${(o.p99 / floorMs).toFixed(2)}× ${ms(floorMs)} ms`;
}

/** An optional column of a table: its heading and its cell for a measured row. */
interface RatioColumn<M> {
  header: string;
  cell(r: ResultRow, o: M): string;
}

/** The columns that are there (a best peer, a floor); a failed row gets an empty cell in each. */
function ratioColumns<M>(...columns: Array<RatioColumn<M> | undefined>): Array<RatioColumn<M>> {
  return columns.filter((c): c is RatioColumn<M> => c !== undefined);
}

function throughputTable(w: Workload, rows: readonly ResultRow[], floor: MachineFloor | undefined): string {
  const best = bestPeer<Throughput>(rows, 'throughput', (a, b) => a.perSecond > b.perSecond);
  const ratios = ratioColumns<Throughput>(
    best && { header: 'vs best peer', cell: (r, o) => (isCorral(r.system) ? `${(o.perSecond / best.outcome.perSecond).toFixed(2)}× ${best.system}` : '—') },
    floor && w.floor === 'append-loop' ? { header: 'vs machine floor', cell: (r, o) => appendLoopRatio(r, o, floor) } : undefined,
  );
  const header = ['system', 'durability', w.unit ?? 'msgs/s', ...ratios.map((c) => c.header), ...SERVER_HEADER];
  return markdownTable(header, rows.map((r) => {
    if (r.outcome instanceof Error || r.outcome.kind !== 'throughput') return [r.system, r.durability, failed(r), ...ratios.map(() => ''), '', '', ''];
    const o = r.outcome;
    return [r.system, r.durability, int(o.perSecond), ...ratios.map((c) => c.cell(r, o)), ...serverColumns(o.server)];
  }));
}

function latencyTable(w: Workload, rows: readonly ResultRow[], floor: MachineFloor | undefined): string {
  const best = bestPeer<Latency>(rows, 'latency', (a, b) => a.p99 < b.p99);
  const ratios = ratioColumns<Latency>(
    best && { header: 'vs best peer (p99)', cell: (r, o) => (isCorral(r.system) ? `${(best.outcome.p99 / o.p99).toFixed(2)}× ${best.system}` : '—') },
    floor && w.floor === 'round-trip' ? { header: 'vs machine floor (p99)', cell: (r, o) => roundTripRatio(r, o, floor) } : undefined,
  );
  const header = ['system', 'durability', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', ...ratios.map((c) => c.header), ...SERVER_HEADER];
  return markdownTable(header, rows.map((r) => {
    if (r.outcome instanceof Error || r.outcome.kind !== 'latency') return [r.system, r.durability, failed(r), '', '', '', ...ratios.map(() => ''), '', '', ''];
    const o = r.outcome;
    return [r.system, r.durability, ms(o.p50), ms(o.p99), ms(o.p999), ms(o.max), ...ratios.map((c) => c.cell(r, o)), ...serverColumns(o.server)];
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
 * above 1 means Corral is ahead either way. Against the machine's floor of
 * the same run (`w.floor`): throughput Corral ÷ floor (1 = the machine's
 * limit), latency Corral p99 ÷ floor (1 = nothing spent beyond the disk and
 * the network).
 */
export function resultsTable(w: Workload, rows: readonly ResultRow[], floor?: MachineFloor): string {
  switch (w.metric) {
    case 'throughput': return throughputTable(w, rows, floor);
    case 'latency': return latencyTable(w, rows, floor);
    case 'memory': return memoryTable(rows);
  }
}
