import { connect, type Client } from '../../src/client/index.js';
import type { BenchClient, BenchSystem, Consumption, Delivery, SystemVariant } from '../bench-system.js';
import type { CorralDurability } from '../bench-options.js';
import { launchHub } from '../hub-launcher.js';
import { procBytesWritten, procMemory } from '../server-process.js';
import { CONSUMER_WINDOW } from '../workloads/limits.js';

/**
 * prom-client samples the event loop with a timer every 10 ms (its default
 * precision) and records the time between samples: the interval plus the
 * delay. An idle hub reads 10.2 ms at p50.
 */
const EVENT_LOOP_SAMPLE_MS = 10;

/**
 * Corral: a real `corral start` process per run. A topic is a topic, a
 * subscription a durable subscription; the consumer grants a credit of
 * CONSUMER_WINDOW and acks every message (acks are cumulative).
 * Durability "fsync": a publish is acknowledged once SQLite has fsynced its
 * WAL; "process": once committed to the OS page cache.
 */
export function corralVariants(durabilities: readonly CorralDurability[], profileDir: string | undefined): SystemVariant[] {
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  return durabilities.map((durability) => ({ system: 'corral', durability, start: () => startCorral(durability, nodeArgs) }));
}

async function startCorral(durability: CorralDurability, nodeArgs: readonly string[]): Promise<BenchSystem> {
  const hub = await launchHub({ durability, nodeArgs });
  return {
    connect: async (name) => new CorralBenchClient(await connect(hub.url, { name })),
    serverMemory: async () => {
      const res = await fetch(`${hub.httpUrl}/api/stats`);
      const stats = (await res.json()) as { memory: { rss: number; heapUsed: number } };
      return { reported: stats.memory, ...procMemory(hub.process.pid) };
    },
    serverCounters: async () => {
      // prom-client's event-loop histogram restarts at every scrape: this reading covers the time since the last one.
      const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
      const p99 = /^corral_process_nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(metrics)?.[1];
      const eventLoopP99Ms = p99 === undefined ? undefined : Math.max(0, Number(p99) * 1000 - EVENT_LOOP_SAMPLE_MS);
      const count = /^corral_commit_batch_records_count (\S+)/m.exec(metrics)?.[1];
      const records = /^corral_commit_batch_records_sum (\S+)/m.exec(metrics)?.[1];
      const commits = count === undefined || records === undefined ? undefined : { count: Number(count), records: Number(records) };
      return { bytesWritten: procBytesWritten(hub.process.pid), eventLoopP99Ms, commits };
    },
    stop: () => hub.process.stop(),
  };
}

/** A Corral client as a BenchClient; the cluster benchmarks use it too. */
export class CorralBenchClient implements BenchClient {
  constructor(private readonly client: Client) {}

  async createSubscription(topic: string, subscription: string): Promise<void> {
    // Created from "latest", so nothing exists yet to deliver; the client
    // takes no credit below 1, and one unit is spent on nothing before the detach.
    const sub = await this.client.subscribe(topic, subscription, { from: 'latest', credit: 1 });
    await sub.close();
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    await this.client.publish(topic, payload);
  }

  async consume(topic: string, subscription: string, onMessage: (d: Delivery) => void): Promise<Consumption> {
    const sub = await this.client.subscribe(topic, subscription, { from: 'latest', credit: CONSUMER_WINDOW });
    let failure: unknown;
    const reading = (async () => {
      for await (const msg of sub) onMessage({ payload: msg.payload, ack: () => msg.ack() });
    })().catch((err: unknown) => { failure = err; });
    return {
      stop: async () => {
        await sub.close();
        await reading;
        if (failure) throw failure;
      },
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
