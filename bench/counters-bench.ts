import { Worker } from 'node:worker_threads';
import { connect, type Client } from '../src/client/index.js';
import { CounterSlots } from '../src/services/counters/counter-slots.js';
import { Counters } from '../src/services/counters/counters.js';
import { launchHub } from './hub-launcher.js';
import { markdownTable } from './markdown-table.js';
import { REDIS_NOT_INSTALLED, withRedisBaseline, type RedisConnection } from './redis-baseline.js';

const INCREMENTS = 20_000_000;
const VARIABLES = 10_000;
const CHANGED = 100;
const CONVERGENCE_ROUNDS = 20;
const CENTRAL_MS = 3000;
/** How often the benchmark's branches exchange with the root (`corral start --counters-branch-interval`): the depth-2 rows use it for the members too. */
const BRANCH_INTERVAL_MS = 20;
/** INCRBYs in flight at once in the pipelined Redis measure (node-redis sends commands issued in one tick together). */
const PIPELINE = 100;

const SLOT_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const cells = new BigUint64Array(workerData.buffer);
const at = workerData.cell;
const n = workerData.n;
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) Atomics.add(cells, at, 1n);
parentPort.postMessage(Number(process.hrtime.bigint() - start) / 1e9);
`;

/** Increments/s per thread: `threads` workers each add to its own slot of one variable, padded or packed. */
async function slotRate(threads: number, padded: boolean): Promise<{ perThread: number; sumOk: boolean }> {
  const slots = CounterSlots.create({ variables: ['v'], threads, padded });
  const seconds = await Promise.all(Array.from({ length: threads }, (_, t) => new Promise<number>((resolve, reject) => {
    const w = new Worker(SLOT_WORKER, { eval: true, workerData: { buffer: slots.shared.buffer, cell: slots.cell(t, 0), n: INCREMENTS } });
    w.once('message', (s: number) => { resolve(s); void w.terminate(); });
    w.once('error', reject);
  })));
  const perThread = seconds.reduce((s, x) => s + INCREMENTS / x, 0) / threads;
  return { perThread, sumOk: slots.sum('v') === BigInt(INCREMENTS * threads) };
}

function mainThreadRate(member: Counters): number {
  const n = 5_000_000;
  const start = performance.now();
  for (let i = 0; i < n; i++) member.increment('hot');
  return n / ((performance.now() - start) / 1000);
}

async function member(url: string, memberId: string, partition: string, syncIntervalMs = 3_600_000, branch?: string): Promise<{ client: Client; counters: Counters }> {
  const client = await connect(url);
  return { client, counters: await Counters.join(client, { memberId, partition, syncIntervalMs, ...(branch === undefined ? {} : { branch }) }) };
}

/** Bytes one member sends and another receives for one exchange in which CHANGED of VARIABLES changed. */
async function bytesPerSync(url: string): Promise<{ up: number; down: number; fullUp: number }> {
  const a = await member(url, 'a', 'bytes');
  const b = await member(url, 'b', 'bytes');
  const names = Array.from({ length: VARIABLES }, (_, i) => `ad-${i}`);
  for (const n of names) a.counters.increment(n);
  await b.counters.subscribe(...names);
  const s0 = a.counters.stats();
  await a.counters.sync();
  const fullUp = a.counters.stats().bytesUp - s0.bytesUp;
  await b.counters.sync();
  const [sa, sb] = [a.counters.stats(), b.counters.stats()];
  for (let i = 0; i < CHANGED; i++) a.counters.increment(names[i * (VARIABLES / CHANGED)]!);
  await a.counters.sync();
  await b.counters.sync();
  const out = { up: a.counters.stats().bytesUp - sa.bytesUp, down: b.counters.stats().bytesDown - sb.bytesDown, fullUp };
  for (const m of [a, b]) await m.client.close();
  return out;
}

/**
 * Time from an increment on one leaf until another leaf reads it, both
 * exchanging every `interval` ms: at depth 1 both are members of the root;
 * at depth 2 each is a member of its own branch (branches exchange with the
 * root every BRANCH_INTERVAL_MS).
 */
async function convergence(url: string, interval: number, urgent: boolean, depth: 1 | 2): Promise<{ p50: number; max: number }> {
  const partition = `conv-${interval}-${urgent ? 'u' : 'n'}-${depth}`;
  const a = await member(url, 'a', partition, interval, depth === 2 ? 'left' : undefined);
  const b = await member(url, 'b', partition, interval, depth === 2 ? 'right' : undefined);
  if (urgent) a.counters.watch('x', 1n << 62n, () => undefined, { earlySyncWithin: 1n << 62n });
  await b.counters.subscribe('x');
  const times: number[] = [];
  for (let i = 1; i <= CONVERGENCE_ROUNDS; i++) {
    await new Promise((r) => setTimeout(r, Math.random() * interval));
    const start = performance.now();
    a.counters.increment('x');
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (b.counters.value('x') >= BigInt(i)) {
          b.counters.off('update', check);
          resolve();
        }
      };
      b.counters.on('update', check);
      check();
    });
    times.push(performance.now() - start);
  }
  for (const m of [a, b]) await m.client.close();
  times.sort((x, y) => x - y);
  return { p50: times[times.length >> 1]!, max: times[times.length - 1]! };
}

/** A central counter: one increment per round trip to the hub (and its store write). */
async function centralRate(url: string): Promise<number> {
  const m = await member(url, 'central', 'central');
  let n = 0;
  const until = performance.now() + CENTRAL_MS;
  const start = performance.now();
  while (performance.now() < until) {
    m.counters.increment('c');
    await m.counters.sync();
    n++;
  }
  const rate = n / ((performance.now() - start) / 1000);
  await m.client.close();
  return rate;
}

/** Redis INCRBY on one connection, `inFlight` at a time: 1 is one increment per round trip, like `centralRate`. */
async function incrbyRate(redis: RedisConnection, inFlight: number): Promise<number> {
  let n = 0;
  const until = performance.now() + CENTRAL_MS;
  const start = performance.now();
  while (performance.now() < until) {
    await Promise.all(Array.from({ length: inFlight }, () => redis.incrBy('c', 1)));
    n += inFlight;
  }
  const rate = n / ((performance.now() - start) / 1000);
  if (await redis.get('c') !== String(n)) throw new Error(`Redis counter is not ${n} after ${n} INCRBYs`);
  await redis.del('c');
  return rate;
}

/** Redis INCRBY, one per round trip with the AOF fsynced once a second and before every reply, and pipelined. */
async function redisRates(): Promise<Array<[string, number]> | undefined> {
  return withRedisBaseline(async (server) => {
    const redis = await server.connect();
    const rows: Array<[string, number]> = [];
    rows.push(['Redis INCRBY, one per round trip (AOF, fsync every 1 s)', await incrbyRate(redis, 1)]);
    rows.push([`Redis INCRBY, ${PIPELINE} pipelined in flight (AOF, fsync every 1 s)`, await incrbyRate(redis, PIPELINE)]);
    await redis.configSet('appendfsync', 'always');
    rows.push(['Redis INCRBY, one per round trip (AOF, fsync always)', await incrbyRate(redis, 1)]);
    return rows;
  });
}

/** Tree counters: local increments per thread, bytes per exchange, convergence time, and a central counter for comparison. */
export async function runCountersBenchmark(): Promise<void> {
  const hub = await launchHub({ durability: 'fsync', startArgs: ['--counters-branch-interval', String(BRANCH_INTERVAL_MS)] });
  let central: number;
  try {
    const m = await member(hub.url, 'local', 'local');
    const main = mainThreadRate(m.counters);
    await m.client.close();
    const rows: string[][] = [['main thread, `counters.increment` (Map + bigint)', '1', Math.round(main).toLocaleString('en-US'), '']];
    for (const threads of [1, 2]) {
      for (const padded of [true, false]) {
        const r = await slotRate(threads, padded);
        rows.push([`worker threads, slots ${padded ? 'padded to 64-byte lines' : 'packed (8 bytes apart)'}`, String(threads), Math.round(r.perThread).toLocaleString('en-US'), r.sumOk ? 'exact' : 'WRONG']);
      }
    }
    console.log('\n### Tree counters: local increments per second per thread\n');
    console.log(markdownTable(['where', 'threads', 'increments/s per thread', 'sum of slots'], rows));

    const bytes = await bytesPerSync(hub.url);
    console.log(`\n### Tree counters: bytes on the wire per exchange, ${VARIABLES.toLocaleString('en-US')} variables\n`);
    console.log(markdownTable(['exchange', 'bytes up (member → root)', 'bytes down (root → other member)'], [
      ['all variables changed (first exchange)', bytes.fullUp.toLocaleString('en-US'), ''],
      [`${CHANGED} changed (1%)`, bytes.up.toLocaleString('en-US'), bytes.down.toLocaleString('en-US')],
    ]));

    const conv: string[][] = [];
    const rounds: Array<[1 | 2, number]> = [[1, 20], [1, 100], [2, BRANCH_INTERVAL_MS]];
    for (const [depth, interval] of rounds) {
      for (const urgent of [false, true]) {
        const c = await convergence(hub.url, interval, urgent, depth);
        conv.push([String(depth), String(interval), urgent ? 'urgent (near a watched threshold)' : 'interval only', c.p50.toFixed(1), c.max.toFixed(1), (2 * depth * interval + 10).toString()]);
      }
    }
    console.log(`\n### Tree counters: convergence, leaf → root hub → leaf (depth 1) and leaf → branch → root → branch → leaf (depth 2, branches on the same hub), ${CONVERGENCE_ROUNDS} increments each\n`);
    console.log(markdownTable(['depth', 'interval ms', 'sync', 'p50 ms', 'max ms', 'bound: 2 × depth × interval + 10 ms'], conv));

    central = await centralRate(hub.url);
  } finally {
    await hub.process.stop();
  }
  // Measured once the hub has stopped, so that the two do not share the cores.
  const redis = await redisRates();
  const fmt = (rate: number): string => Math.round(rate).toLocaleString('en-US');
  console.log('\n### Central counter baselines: one client, one connection\n');
  console.log(markdownTable(['counter', 'increments/s'], [
    ['Corral hub, one increment per round trip (fsync durability)', fmt(central)],
    ...(redis ? redis.map(([what, rate]) => [what, fmt(rate)]) : [['Redis INCRBY', REDIS_NOT_INSTALLED]]),
  ]));
  if (!redis) console.log(`\nRedis INCRBY baseline: ${REDIS_NOT_INSTALLED}`);
}
