import { createClient } from 'redis';
import { findExecutable, freePort, waitForPort, type ServerProcess } from './server-process.js';
import { redisServerProcess } from './systems/redis-system.js';

export type RedisConnection = ReturnType<typeof createClient>;

/** What a baseline prints in place of its figures when there is no Redis to measure. */
export const REDIS_NOT_INSTALLED = 'redis-server not installed, not measured';

/**
 * A redis-server started for a baseline printed next to Corral's figures in
 * the same run (AOF fsynced once a second, as `redisServerProcess` starts it);
 * its connections are closed and the server stopped by `stop`.
 */
export class RedisBaseline {
  private readonly connections: RedisConnection[] = [];

  private constructor(private readonly server: ServerProcess, private readonly port: number) {}

  /** The server, once it accepts connections; undefined when redis-server is not installed. */
  static async start(): Promise<RedisBaseline | undefined> {
    const binary = findExecutable('redis-server');
    if (!binary) return undefined;
    const port = await freePort();
    const server = redisServerProcess(binary, port);
    try {
      await waitForPort(server, port);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return new RedisBaseline(server, port);
  }

  async connect(): Promise<RedisConnection> {
    const c = createClient({ socket: { host: '127.0.0.1', port: this.port } });
    await c.connect();
    this.connections.push(c);
    return c;
  }

  async stop(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.quit()));
    await this.server.stop();
  }
}

/** Runs `measure` against a fresh redis-server; undefined (nothing run) when redis-server is not installed. */
export async function withRedisBaseline<T>(measure: (redis: RedisBaseline) => Promise<T>): Promise<T | undefined> {
  const redis = await RedisBaseline.start();
  if (!redis) return undefined;
  try {
    return await measure(redis);
  } finally {
    await redis.stop();
  }
}
