import { commandOptions, createClient } from 'redis';
import type { BenchClient, BenchSystem, Consumption, Delivery, SystemVariant } from '../bench-system.js';
import { benchTempDir, freePort, ServerProcess } from '../server-process.js';
import { peerSystem } from './peer-system.js';
import { CONSUMER_WINDOW } from '../workloads/limits.js';

type RedisConnection = ReturnType<typeof createClient>;

/** How long one XREADGROUP blocks, so that streams added to a reader are picked up soon. */
const BLOCK_MS = 100;

const keyOf = (topic: string): string => `bench:${topic}`;

/**
 * Redis Streams: a topic is a stream, a subscription a consumer group,
 * publishes are XADD (node-redis pipelines commands issued in the same tick),
 * consumption is XREADGROUP + XACK. The server acknowledges an XADD once in
 * memory and appended to its AOF buffer; `appendfsync everysec` fsyncs the AOF
 * once a second, not before acknowledging. Acked entries stay in the stream
 * (Redis trims by length or id only).
 */
export function redisVariant(binary: string): SystemVariant {
  return { system: 'redis', durability: 'AOF, fsync 1 s', start: () => startRedis(binary) };
}

/** A redis-server on 127.0.0.1:`port` with its AOF fsynced once a second and no RDB snapshots. */
export function redisServerProcess(binary: string, port: number): ServerProcess {
  return new ServerProcess('redis-server', binary, (dir) => [
    '--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir, '--save', '',
  ], benchTempDir('redis'));
}

async function startRedis(binary: string): Promise<BenchSystem> {
  const port = await freePort();
  return peerSystem(redisServerProcess(binary, port), port, (p, name) => RedisClient.open(p, name));
}

function isBusyGroup(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('BUSYGROUP');
}

class RedisClient implements BenchClient {
  /** One blocking reader per consumer group, each on its own connection (XREADGROUP BLOCK holds a connection). */
  private readonly readers = new Map<string, GroupReader>();

  private constructor(private readonly redis: RedisConnection, private readonly name: string) {}

  static async open(port: number, name: string): Promise<RedisClient> {
    const redis = createClient({ socket: { host: '127.0.0.1', port }, name });
    await redis.connect();
    return new RedisClient(redis, name);
  }

  async createSubscription(topic: string, subscription: string): Promise<void> {
    await this.redis.xGroupCreate(keyOf(topic), subscription, '$', { MKSTREAM: true }).catch((err: unknown) => {
      if (!isBusyGroup(err)) throw err;
    });
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    await this.redis.xAdd(keyOf(topic), '*', { p: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) });
  }

  async consume(topic: string, subscription: string, onMessage: (d: Delivery) => void): Promise<Consumption> {
    await this.createSubscription(topic, subscription);
    let reader = this.readers.get(subscription);
    if (!reader) {
      const conn = this.redis.duplicate();
      await conn.connect();
      reader = new GroupReader(conn, this.redis, subscription, this.name);
      this.readers.set(subscription, reader);
    }
    const key = keyOf(topic);
    reader.add(key, onMessage);
    const r = reader;
    return {
      stop: () => {
        r.remove(key);
        return Promise.resolve();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.readers.values()].map((r) => r.close()));
    await this.redis.quit();
  }
}

/**
 * Reads every stream of one consumer group with a single XREADGROUP, hands
 * entries to their stream's handler, then XACKs the batch's acknowledged ids
 * in one command per stream on the command connection.
 */
class GroupReader {
  private readonly handlers = new Map<string, (d: Delivery) => void>();
  private running: Promise<void> | undefined;
  private closing = false;
  private readonly acking = new Set<Promise<unknown>>();
  private failure: unknown;

  constructor(
    private readonly reader: RedisConnection,
    private readonly commands: RedisConnection,
    private readonly group: string,
    private readonly consumer: string,
  ) {}

  add(key: string, handler: (d: Delivery) => void): void {
    this.handlers.set(key, handler);
    // A failed read stops this reader; the workload sees a stall and close() reports the cause.
    this.running ??= this.loop().catch((err: unknown) => { this.failure ??= err; });
  }

  remove(key: string): void {
    this.handlers.delete(key);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.running;
    await Promise.all(this.acking);
    await this.reader.quit();
    if (this.failure) throw this.failure;
  }

  private async loop(): Promise<void> {
    while (!this.closing) {
      const keys = [...this.handlers.keys()];
      if (keys.length === 0) {
        await new Promise((r) => setTimeout(r, BLOCK_MS));
        continue;
      }
      const reply = await this.reader.xReadGroup(
        commandOptions({ returnBuffers: true }), this.group, this.consumer,
        keys.map((key) => ({ key, id: '>' })), { COUNT: CONSUMER_WINDOW, BLOCK: BLOCK_MS },
      );
      for (const stream of reply ?? []) {
        const key = stream.name.toString();
        const handler = this.handlers.get(key);
        if (!handler) continue;
        const acked: Buffer[] = [];
        for (const { id, message } of stream.messages) {
          handler({ payload: message.p as Buffer, ack: () => acked.push(id as Buffer) });
        }
        if (acked.length > 0) this.ack(key, acked);
      }
    }
  }

  private ack(key: string, ids: Buffer[]): void {
    const p = this.commands.xAck(key, this.group, ids).catch((err: unknown) => { this.failure ??= err; });
    this.acking.add(p);
    void p.finally(() => this.acking.delete(p));
  }
}
