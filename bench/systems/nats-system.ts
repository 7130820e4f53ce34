import {
  AckPolicy, connect, DeliverPolicy, RetentionPolicy, StorageType,
  type JetStreamClient, type JetStreamManager, type NatsConnection,
} from 'nats';
import type { BenchClient, BenchSystem, Consumption, Delivery, SystemVariant } from '../bench-system.js';
import { benchTempDir, freePort, ServerProcess } from '../server-process.js';
import { peerSystem } from './peer-system.js';
import { CONSUMER_WINDOW } from '../workloads/limits.js';

const subjectOf = (topic: string): string => `bench.${topic}`;
const deliverOf = (topic: string, subscription: string): string => `deliver.${topic}.${subscription}`;
const streamOf = (topic: string): string => `bench-${topic}`;

/**
 * NATS JetStream: a topic is a file-storage stream of its own (like a Corral
 * topic, an independent ordered log), created with its first subscription;
 * a subscription is a durable push consumer with explicit acks and at most
 * CONSUMER_WINDOW unacknowledged (push measured faster than pull consumers
 * here, markedly so with 1,000 of them). Interest retention drops a message
 * once every consumer has acked it: the closest match to Corral's garbage
 * rule. The server acknowledges a publish once written to its file store and
 * fsyncs on its sync interval (2 minutes by default), not before acknowledging.
 */
export function natsVariant(binary: string): SystemVariant {
  return { system: 'nats', durability: 'file, fsync 2 min', start: () => startNats(binary) };
}

async function startNats(binary: string): Promise<BenchSystem> {
  const port = await freePort();
  const server = new ServerProcess('nats-server', binary, (dir) => ['-js', '-sd', dir, '-a', '127.0.0.1', '-p', String(port)], benchTempDir('nats'));
  return peerSystem(server, port, (p, name) => NatsClient.open(p, name));
}

class NatsClient implements BenchClient {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  static async open(port: number, name: string): Promise<NatsClient> {
    const nc = await connect({ servers: `127.0.0.1:${port}`, name });
    return new NatsClient(nc, nc.jetstream(), await nc.jetstreamManager());
  }

  async createSubscription(topic: string, subscription: string): Promise<void> {
    // Adding a stream that exists with the same configuration is a no-op.
    await this.jsm.streams.add({ name: streamOf(topic), subjects: [subjectOf(topic)], storage: StorageType.File, retention: RetentionPolicy.Interest });
    await this.jsm.consumers.add(streamOf(topic), {
      durable_name: subscription,
      deliver_subject: deliverOf(topic, subscription),
      max_ack_pending: CONSUMER_WINDOW,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
    });
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    await this.js.publish(subjectOf(topic), payload);
  }

  async consume(topic: string, subscription: string, onMessage: (d: Delivery) => void): Promise<Consumption> {
    const exists = await this.jsm.consumers.info(streamOf(topic), subscription).then(() => true, () => false);
    if (!exists) await this.createSubscription(topic, subscription);
    const sub = this.nc.subscribe(deliverOf(topic, subscription), {
      callback: (err, m) => {
        // An error here ends the subscription; the workload then reports a stall.
        if (!err) onMessage({ payload: m.data, ack: () => m.respond() });
      },
    });
    return {
      stop: async () => {
        await sub.drain();
      },
    };
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
