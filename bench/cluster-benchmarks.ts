import type { SystemVariant } from './bench-system.js';
import { FAILOVER, type BenchOptions } from './bench-options.js';
import { clusterCpuTable, measureClusterCpu } from './cluster-cpu.js';
import { FAILOVER_SCENARIOS, FAILOVER_TITLE, failoverChecks, failoverTable, measureFailover } from './failover.js';
import type { ResultRow } from './results-table.js';
import { clusterLabel, clusterVariants } from './systems/cluster-system.js';
import { corralVariants } from './systems/corral-system.js';
import { ALL_WORKLOADS } from './workloads/all-workloads.js';
import type { Workload } from './workloads/workload.js';

/** Hub counts of the cluster rows: the cluster itself, and one hub to set PostgreSQL against SQLite. */
const HUB_COUNTS = [3, 1] as const;
const CPU_HUBS = 3;
/** The workloads whose CPU cost per message is measured: one topic, and 1,000 topics over every hub. */
const CPU_WORKLOADS = ['W1', 'W4'];
const SQLITE_LABEL = 'corral 1 hub/sqlite';

export const CLUSTER_NOTE = `cluster mode: every run of a ${clusterLabel(3)} or ${clusterLabel(1)} row starts a fresh embedded PostgreSQL `
  + `and fresh hubs; ${SQLITE_LABEL} is the standalone hub of \`npm run bench\``;

/** The rows of every cluster table: 3 hubs and 1 hub over PostgreSQL, and the standalone hub on SQLite beside them. */
export function clusterModeVariants(opts: BenchOptions): SystemVariant[] {
  return [
    ...clusterVariants(HUB_COUNTS, opts.durability, opts.profile),
    ...corralVariants(opts.durability, opts.profile).map((v) => ({ ...v, system: SQLITE_LABEL })),
  ];
}

/** Target: W1 on one hub over PostgreSQL within 1.5× of the same hub on SQLite, i.e. a ratio of at least 0.67. */
const PG_TO_SQLITE_TARGET = 1 / 1.5;

/** W1's ratio of one hub over PostgreSQL to the same hub on SQLite, per durability, with the target. */
export function pgVersusSqlite(w: Workload, rows: readonly ResultRow[]): string | undefined {
  if (w.id !== 'W1') return undefined;
  const perSecond = (system: string, durability: string): number | undefined => {
    const o = rows.find((r) => r.system === system && r.durability === durability)?.outcome;
    return o !== undefined && !(o instanceof Error) && o.kind === 'throughput' ? o.perSecond : undefined;
  };
  const lines = [...new Set(rows.map((r) => r.durability))].flatMap((d) => {
    const pg = perSecond(clusterLabel(1), d);
    const sqlite = perSecond(SQLITE_LABEL, d);
    return pg === undefined || sqlite === undefined ? [] : [`${d}: ${clusterLabel(1)} ÷ ${SQLITE_LABEL} = ${(pg / sqlite).toFixed(2)}`];
  });
  return lines.length === 0 ? undefined : `W1, one hub over PostgreSQL against the same hub on SQLite (target ≥ ${PG_TO_SQLITE_TARGET.toFixed(2)}): ${lines.join('; ')}`;
}

/** After the workload tables: CPU per message of each component (W1, W4), and the failover figure. */
export async function runClusterBenchmarks(opts: BenchOptions): Promise<void> {
  for (const w of ALL_WORKLOADS.filter((x) => CPU_WORKLOADS.includes(x.id) && opts.only.includes(x.id))) {
    for (const durability of opts.durability) {
      const started = performance.now();
      try {
        const cost = await measureClusterCpu(w, CPU_HUBS, durability, opts);
        process.stderr.write(`CPU ${w.id} ${clusterLabel(CPU_HUBS)} (${durability}): ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
        console.log(`\n### ${cost.title}\n\n${clusterCpuTable(cost)}`);
      } catch (err) {
        process.stderr.write(`CPU ${w.id} ${clusterLabel(CPU_HUBS)} (${durability}) failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
        console.log(`\n### CPU per message, ${w.id} on ${clusterLabel(CPU_HUBS)} (${durability}): failed: ${String(err).split('\n')[0]}`);
      }
    }
  }
  if (!opts.only.includes(FAILOVER)) return;
  const results = [];
  for (const scenario of FAILOVER_SCENARIOS) results.push(await measureFailover(scenario));
  console.log(`\n### ${FAILOVER_TITLE}\n\n${failoverTable(results)}\n\n${failoverChecks(results)}`);
}
