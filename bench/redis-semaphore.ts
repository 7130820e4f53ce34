import type { RedisConnection } from './redis-baseline.js';

/**
 * The usual Redis semaphore (as in the redis-semaphore package): holders in a
 * sorted set scored by lease expiry; one Lua script drops lapsed holders and
 * adds the caller if fewer than `limit` remain. There is no queue: a refused
 * caller retries after `pollMs`, and whichever retry lands first after a
 * release wins the slot.
 */
const ACQUIRE = `
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
  return 1
end
return 0`;

/** Long enough that no holder lapses during a benchmark: every slot ends with a release. */
const LEASE_MS = 60_000;

export class RedisSemaphore {
  private constructor(private readonly redis: RedisConnection, private readonly sha: string,
    readonly key: string, readonly limit: number, readonly pollMs: number) {}

  static async open(redis: RedisConnection, key: string, limit: number, pollMs: number): Promise<RedisSemaphore> {
    return new RedisSemaphore(redis, await redis.scriptLoad(ACQUIRE), key, limit, pollMs);
  }

  async tryAcquire(id: string): Promise<boolean> {
    const r = await this.redis.evalSha(this.sha, { keys: [this.key], arguments: [String(this.limit), String(LEASE_MS), String(Date.now()), id] });
    return r === 1;
  }

  /** Tries until admitted, `pollMs` after each refusal; `refused` is told of the first refusal (the caller is now waiting). */
  async acquire(id: string, refused?: () => void): Promise<void> {
    let first = true;
    while (!(await this.tryAcquire(id))) {
      if (first) refused?.();
      first = false;
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  async release(id: string): Promise<void> {
    await this.redis.zRem(this.key, id);
  }
}
