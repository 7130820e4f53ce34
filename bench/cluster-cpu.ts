import postgres from 'postgres';
import type { BenchClient, BenchSystem } from './bench-system.js';
import type { CorralDurability } from './bench-options.js';
import { markdownTable } from './markdown-table.js';
import { descendantsCpuMs, processCpuMs } from './process-cpu.js';
import { clusterBenchSystem, clusterLabel, hubIdOf, startCluster, topicOwners, type Cluster } from './systems/cluster-system.js';
import type { Workload, WorkloadSettings } from './workloads/workload.js';

/** What one component of the cluster spent while a workload ran. */
export interface ComponentCpu {
  component: string;
  ms: number;
}

export interface ClusterCpuCost {
  title: string;
  messages: number;
  seconds: number;
  components: ComponentCpu[];
  /** WAL PostgreSQL wrote meanwhile: what a disk (and a standby) has to take per message. */
  walBytes: number;
}

interface CpuSample {
  hubs: number[];
  postgres: { ms: number; processes: number };
  client: number;
}

function sample(cluster: Cluster): CpuSample {
  const usage = process.cpuUsage();
  return {
    hubs: cluster.hubs.map((h) => processCpuMs(h.process.pid) ?? NaN),
    // Every process of the embedded server is a descendant of this one (the
    // postmaster is its child); the hubs are "node", so only PostgreSQL's count.
    postgres: descendantsCpuMs(process.pid, 'postgres'),
    client: (usage.user + usage.system) / 1000,
  };
}

/** The system with a hook on the first publish of any of its clients, where the workload's clock starts. */
function onFirstPublish(system: BenchSystem, first: () => void): BenchSystem {
  let seen = false;
  const wrap = (c: BenchClient): BenchClient => ({
    createSubscription: (topic, subscription) => c.createSubscription(topic, subscription),
    publish: (topic, payload) => {
      if (!seen) {
        seen = true;
        first();
      }
      return c.publish(topic, payload);
    },
    consume: (topic, subscription, onMessage) => c.consume(topic, subscription, onMessage),
    close: () => c.close(),
  });
  return { ...system, connect: async (name) => wrap(await system.connect(name)) };
}

/**
 * Runs a workload once on a fresh cluster and reads the CPU time (user +
 * system) of every hub process, of all PostgreSQL processes, and of this
 * benchmark process (the clients), from the workload's first publish until
 * it returns; the set-up before (subscriptions, topic ownership) is left out.
 * Also the WAL PostgreSQL wrote over the same interval.
 */
export async function measureClusterCpu(w: Workload, hubs: number, durability: CorralDurability, settings: WorkloadSettings): Promise<ClusterCpuCost> {
  const cluster = await startCluster({ hubs, durability });
  const sql = postgres(cluster.postgres.url, { max: 1, onnotice: () => undefined });
  try {
    let before: CpuSample | undefined;
    let walStart: Promise<string> | undefined;
    let started = 0;
    const measured = await w.run(onFirstPublish(clusterBenchSystem(cluster), () => {
      before = sample(cluster);
      started = performance.now();
      walStart = sql<[{ lsn: string }]>`SELECT pg_current_wal_insert_lsn()::text AS lsn`.then(([r]) => r.lsn);
    }), settings);
    const after = sample(cluster);
    const seconds = (performance.now() - started) / 1000;
    if (before === undefined || walStart === undefined || measured.kind !== 'throughput') throw new Error(`${w.id} published nothing or measured no throughput`);
    const [wal] = await sql<[{ bytes: number }]>`SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ${await walStart}::pg_lsn)::float8 AS bytes`;
    const b = before;
    const owners = [...(await topicOwners(cluster)).values()];
    const ids = await Promise.all(cluster.hubs.map(hubIdOf));
    const hubMs = after.hubs.map((ms, i) => ms - b.hubs[i]!);
    const hubsMs = hubMs.reduce((x, y) => x + y, 0);
    const postgresMs = after.postgres.ms - b.postgres.ms;
    const clientMs = after.client - b.client;
    const components: ComponentCpu[] = [
      ...hubMs.map((ms, i) => {
        const owned = owners.filter((o) => o === ids[i]).length;
        return { component: `hub ${i + 1} (owns ${owned} topic${owned === 1 ? '' : 's'})`, ms };
      }),
      ...(hubs > 1 ? [{ component: 'hubs together', ms: hubsMs }] : []),
      { component: `PostgreSQL (${after.postgres.processes} processes)`, ms: postgresMs },
      { component: 'benchmark process (clients)', ms: clientMs },
      { component: 'total', ms: hubsMs + postgresMs + clientMs },
    ];
    const messages = measured.count;
    const title = `CPU per message, ${w.id} on ${clusterLabel(hubs)} (${durability}): ${messages.toLocaleString('en-US')} messages in `
      + `${seconds.toFixed(1)} s, ${Math.round(messages / seconds).toLocaleString('en-US')} msgs/s`;
    return { title, messages, seconds, components, walBytes: wal.bytes };
  } finally {
    await sql.end({ timeout: 1 });
    await cluster.stop();
  }
}

/**
 * component | CPU ms per 1,000 msgs, with the CPU seconds behind it and the
 * cores it kept busy; then the WAL written per message.
 */
export function clusterCpuTable(cost: ClusterCpuCost): string {
  const table = markdownTable(['component', 'CPU s', 'CPU ms per 1,000 msgs', 'cores busy'], cost.components.map((c) => [
    c.component, (c.ms / 1000).toFixed(2), ((c.ms * 1000) / cost.messages).toFixed(1), (c.ms / 1000 / cost.seconds).toFixed(2),
  ]));
  return `${table}\n\nPostgreSQL WAL written meanwhile: ${(cost.walBytes / 2 ** 20).toFixed(1)} MB, `
    + `${Math.round(cost.walBytes / cost.messages).toLocaleString('en-US')} bytes per message`;
}
