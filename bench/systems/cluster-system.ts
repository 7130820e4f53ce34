import type { PostgresServer } from '../../src/cli/embedded-postgres.js';
import { connect, type ConnectOptions } from '../../src/client/index.js';
import type { BenchSystem, SystemVariant } from '../bench-system.js';
import type { CorralDurability } from '../bench-options.js';
import { launchHub, type LaunchedHub } from '../hub-launcher.js';
import { CorralBenchClient } from './corral-system.js';

export interface ClusterOptions {
  hubs: number;
  durability: CorralDurability;
  /** `corral start --lease` in ms; Corral's default (5,000) when absent. */
  leaseMs?: number;
  nodeArgs?: readonly string[];
}

/** Hubs over one embedded PostgreSQL, all started for one run and stopped after it. */
export interface Cluster {
  hubs: readonly LaunchedHub[];
  /** corral://h1:p1,h2:p2,…: what a client of the cluster is given. */
  url: string;
  postgres: PostgresServer;
  /** Stops the hubs that still run (SIGTERM), then PostgreSQL, and removes their data. */
  stop(): Promise<void>;
}

/** "corral 3 hubs/pg": the system column of the cluster rows. */
export function clusterLabel(hubs: number): string {
  return `corral ${hubs} hub${hubs === 1 ? '' : 's'}/pg`;
}

/**
 * Starts a fresh embedded PostgreSQL and `hubs` × `corral start --store …`
 * on it, each its own process on free ports, as an operator would run them.
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  // Loaded only here: the embedded-postgres package installs exit and signal
  // hooks when imported, which the standalone benchmarks should not get.
  const { startPostgres } = await import('../../src/cli/embedded-postgres.js');
  const postgres = await startPostgres();
  const startArgs = ['--store', postgres.url, ...(opts.leaseMs === undefined ? [] : ['--lease', String(opts.leaseMs)])];
  // Started together, as a deployment does; the schema migration is safe under that race.
  const started = await Promise.allSettled(Array.from({ length: opts.hubs }, () =>
    launchHub({ durability: opts.durability, nodeArgs: opts.nodeArgs, startArgs })));
  const hubs = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  // Interrupted (Ctrl-C, SIGTERM), the embedded-postgres hook stops PostgreSQL
  // and exits; without this the hubs would live on, retrying a dead store.
  const killHubs = (): void => {
    for (const h of hubs) if (h.process.running) process.kill(h.process.pid, 'SIGKILL');
  };
  process.once('exit', killHubs);
  const stop = async (): Promise<void> => {
    process.off('exit', killHubs);
    await Promise.all(hubs.map((h) => h.process.stop()));
    await postgres.stop();
  };
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await stop();
    throw failure.reason;
  }
  return { hubs, url: `corral://${hubs.map((h) => h.url.slice('corral://'.length)).join(',')}`, postgres, stop };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** The hub's id, from its /healthz. */
export async function hubIdOf(hub: LaunchedHub): Promise<string> {
  return (await getJson<{ hubId: string }>(`${hub.httpUrl}/healthz`)).hubId;
}

/** Owner hub id of every topic, from the owner records as `/api/topics` of any live hub shows them. */
export async function topicOwners(cluster: Cluster): Promise<Map<string, string>> {
  const hub = cluster.hubs.find((h) => h.process.running);
  if (hub === undefined) throw new Error('no hub of the cluster is running');
  const { topics } = await getJson<{ topics: Array<{ topic: string; owner?: string }> }>(`${hub.httpUrl}/api/topics`);
  return new Map(topics.flatMap((t) => (t.owner === undefined ? [] : [[t.topic, t.owner] as const])));
}

/** The running hub that owns `topic` now. */
export async function ownerHub(cluster: Cluster, topic: string): Promise<LaunchedHub> {
  const owner = (await topicOwners(cluster)).get(topic);
  for (const hub of cluster.hubs) {
    if (hub.process.running && (await hubIdOf(hub)) === owner) return hub;
  }
  throw new Error(`no running hub owns topic ${topic} (owner record: ${owner ?? 'none'})`);
}

/** A cluster as a BenchSystem: every client is given all the hubs' addresses and follows redirects itself. */
export function clusterBenchSystem(cluster: Cluster, clientOptions: ConnectOptions = {}): BenchSystem {
  return {
    connect: async (name) => new CorralBenchClient(await connect(cluster.url, { ...clientOptions, name })),
    serverMemory: () => Promise.reject(new Error('hub memory (M1) is measured on a standalone hub only')),
    stop: () => cluster.stop(),
  };
}

/** One row per hub count and durability: a fresh PostgreSQL and fresh hubs for every run. */
export function clusterVariants(hubCounts: readonly number[], durabilities: readonly CorralDurability[], profileDir: string | undefined): SystemVariant[] {
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  return hubCounts.flatMap((hubs) => durabilities.map((durability) => ({
    system: clusterLabel(hubs),
    durability,
    start: async () => clusterBenchSystem(await startCluster({ hubs, durability, nodeArgs })),
  })));
}
