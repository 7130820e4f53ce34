import { cpus, loadavg, totalmem } from 'node:os';
import type { SystemVariant } from './bench-system.js';
import { CLOCK, COUNTERS, GATES, NONREADERS, parseBenchOptions, SYNC, USAGE, type BenchOptions } from './bench-options.js';
import { runClockBenchmark } from './clock-bench.js';
import { runCountersBenchmark } from './counters-bench.js';
import { runGateBenchmark } from './gate-bench.js';
import { runNonReadersBenchmark } from './non-readers-bench.js';
import { runSyncBenchmark } from './sync-bench.js';
import { floorTable, measureMachineFloor, type MachineFloor } from './machine-floor.js';
import { CLUSTER_NOTE, clusterModeVariants, pgVersusSqlite, runClusterBenchmarks } from './cluster-benchmarks.js';
import { medianOf } from './median.js';
import { runMicroBenchmarks } from './micro-benchmarks.js';
import { resultsTable, type ResultRow } from './results-table.js';
import { corralVariants } from './systems/corral-system.js';
import { peerVariants } from './systems/peer-variants.js';
import { ALL_WORKLOADS } from './workloads/all-workloads.js';
import type { Measurement, ServerCost } from './workloads/measurement.js';
import type { Workload, WorkloadSettings } from './workloads/workload.js';

/** No single run may take longer than this (the largest, M1 --full, takes about 35 min on 2 cores). */
const RUN_TIMEOUT_MS = 60 * 60_000;

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One run on a fresh server: started before, stopped (and its data removed)
 * after; where the server is one process, what it wrote to storage, its
 * event-loop delay and its memory over the run go with the figure.
 */
async function runOnce(w: Workload, variant: SystemVariant, settings: WorkloadSettings): Promise<Measurement> {
  const system = await variant.start();
  try {
    const before = await system.serverCounters?.();
    const m = await withTimeout(w.run(system, settings), RUN_TIMEOUT_MS, `${w.id} on ${variant.system}`);
    const after = await system.serverCounters?.();
    if (before === undefined || after === undefined || m.kind === 'memory') return m;
    const server: ServerCost = {
      bytesPerMessage: (after.bytesWritten - before.bytesWritten) / m.count,
      eventLoopP99Ms: after.eventLoopP99Ms,
      recordsPerCommit: before.commits && after.commits && after.commits.count > before.commits.count
        ? (after.commits.records - before.commits.records) / (after.commits.count - before.commits.count)
        : undefined,
      rssAfter: (await system.serverMemory()).vmRss,
    };
    return { ...m, server };
  } finally {
    await system.stop();
  }
}

async function measureRow(w: Workload, variant: SystemVariant, opts: BenchOptions): Promise<ResultRow> {
  const runs: Measurement[] = [];
  for (let i = 1; i <= opts.runs; i++) {
    const label = `${w.id} ${variant.system} (${variant.durability}) run ${i}/${opts.runs}`;
    const started = performance.now();
    try {
      runs.push(await runOnce(w, variant, opts));
      progress(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      progress(`${label} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      return { system: variant.system, durability: variant.durability, outcome: err instanceof Error ? err : new Error(String(err)) };
    }
  }
  return { system: variant.system, durability: variant.durability, outcome: medianOf(runs) };
}

async function main(): Promise<void> {
  const opts = parseBenchOptions(process.argv.slice(2), ALL_WORKLOADS.map((w) => w.id));
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const corral = opts.cluster ? clusterModeVariants(opts) : corralVariants(opts.durability, opts.profile);
  const peers = peerVariants(opts.vs);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const load1 = loadavg()[0]!;
  console.log(`Corral benchmarks — ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} × ${cpu}, `
    + `${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${opts.runs === 1 ? '1 run' : `median of ${opts.runs} runs`} per row`);
  if (peers.missing.length > 0) console.log(`not installed, skipped: ${peers.missing.join(', ')}`);
  if (opts.cluster) console.log(CLUSTER_NOTE);
  // M1 reads one hub's own memory: it has no cluster form.
  const workloads = ALL_WORKLOADS.filter((x) => opts.only.includes(x.id) && !(opts.cluster && x.hubOnly));
  // The same run's figures of the bare machine: what every Corral figure is to be read against.
  let floor: MachineFloor | undefined;
  if (workloads.some((w) => w.metric !== 'memory')) {
    progress('measuring the machine alone (fdatasync, TCP round trip, append loop)');
    floor = await measureMachineFloor();
    console.log(`\n### The machine alone, this run\n\n${floorTable(floor)}`);
  }
  for (const w of workloads) {
    const variants = w.hubOnly ? corral.slice(0, 1) : [...corral, ...peers.variants];
    const rows: ResultRow[] = [];
    for (const v of variants) rows.push(await measureRow(w, v, opts));
    console.log(`\n### ${w.title(opts)}\n\n${resultsTable(w, rows, floor)}`);
    const target = opts.cluster ? pgVersusSqlite(w, rows) : undefined;
    if (target) console.log(`\n${target}`);
  }
  if (opts.cluster) await runClusterBenchmarks(opts);
  if (opts.only.includes(CLOCK) && !opts.cluster) await runClockBenchmark();
  if (opts.only.includes(SYNC) && !opts.cluster) await runSyncBenchmark(opts.scale);
  if (opts.only.includes(COUNTERS) && !opts.cluster) await runCountersBenchmark();
  if (opts.only.includes(GATES) && !opts.cluster) await runGateBenchmark();
  if (opts.only.includes(NONREADERS) && !opts.cluster) await runNonReadersBenchmark();
  if (opts.micro) await runMicroBenchmarks();
  // Other work on the machine competes with the systems measured; the load says how much there was.
  console.log(`\nload average (1 min): ${load1.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
