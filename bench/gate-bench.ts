import { connect, type Client } from '../src/client/index.js';
import { Gate } from '../src/services/gates/gate.js';
import type { GateWaiter } from '../src/services/gates/gate-waiter.js';
import { GC_DONE } from './gc-on-signal.js';
import { launchHub, type LaunchedHub } from './hub-launcher.js';
import { markdownTable } from './markdown-table.js';
import { REDIS_NOT_INSTALLED, withRedisBaseline, type RedisConnection } from './redis-baseline.js';
import { RedisSemaphore } from './redis-semaphore.js';

const THROUGHPUT_MS = 3000;
const HANDOVERS = 500;
const WAITERS = 10_000;
/** Handovers measured at the head of the 10,000-waiter queue. */
const QUEUED_HANDOVERS = 200;
/** Waiters that join a limit-1 gate one after another, for the order check. */
const ORDER_WAITERS = 200;
/** How long a refused Redis semaphore caller waits before trying again (redis-semaphore's default retry interval). */
const POLL_MS = 10;

const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const p50p99 = (xs: number[]): string => `${q(xs, 0.5).toFixed(2)} / ${q(xs, 0.99).toFixed(2)} ms`;

const GC_HOOK = new URL('./gc-on-signal.js', import.meta.url).href;

/** The hub's heap in use after a full garbage collection (the hub runs the GC hook). */
async function heapUsed(hub: LaunchedHub): Promise<number> {
  const collected = new Promise<void>((resolve) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes(GC_DONE)) {
        hub.process.stdout.off('data', onData);
        resolve();
      }
    };
    hub.process.stdout.on('data', onData);
  });
  process.kill(hub.process.pid, 'SIGUSR2');
  await collected;
  const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
  return Number(/^corral_process_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
}

/** Admissions per second through one gate (limit 50, 200 acquire/release loops). */
async function admissionsPerSecond(gate: Gate): Promise<number> {
  let done = 0;
  const until = performance.now() + THROUGHPUT_MS;
  const started = performance.now();
  await Promise.all(Array.from({ length: 200 }, async () => {
    while (performance.now() < until) {
      await (await gate.acquire()).release();
      done++;
    }
  }));
  return done / ((performance.now() - started) / 1000);
}

/** Time from sending a release to the next waiter's admission (limit 1, holder and waiter on different clients). */
async function releaseToAdmission(a: Gate, b: Gate): Promise<number[]> {
  const times: number[] = [];
  let held = await a.acquire();
  const releases: Array<Promise<void>> = [];
  for (let i = 0; i < HANDOVERS; i++) {
    const next = await (i % 2 === 0 ? b : a).enqueue();
    const t0 = performance.now();
    releases.push(held.release());
    held = await next.admitted;
    times.push(performance.now() - t0);
  }
  releases.push(held.release());
  await Promise.all(releases);
  return times;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Admissions that overtook an earlier arrival still waiting; arrivals are numbered 0, 1, 2… in the order they joined. */
function overtakes(admitted: readonly number[]): number {
  const done = new Set<number>();
  let oldest = 0;
  let n = 0;
  for (const i of admitted) {
    if (i !== oldest) n++;
    done.add(i);
    while (done.has(oldest)) oldest++;
  }
  return n;
}

/**
 * ORDER_WAITERS waiters join a limit-1 gate one after another (each once the
 * previous one is queued), spread over the clients; the holder releases and
 * every admitted waiter releases at once. Returns the order violations.
 */
async function corralOrder(clients: Client[]): Promise<number> {
  const gates = clients.map((c) => Gate.open(c, 'order'));
  await gates[0]!.create({ limit: 1 });
  const holder = await gates[0]!.acquire();
  const admitted: number[] = [];
  const served: Array<Promise<void>> = [];
  for (let i = 0; i < ORDER_WAITERS; i++) {
    const w = await gates[i % gates.length]!.enqueue();
    served.push(w.admitted.then(async (slot) => { admitted.push(i); await slot.release(); }));
  }
  await holder.release();
  await Promise.all(served);
  for (const g of gates) g.close();
  return overtakes(admitted);
}

/**
 * The same check on a Redis semaphore: a waiter has arrived once its first
 * try was refused, and the next one starts only then.
 */
async function redisOrder(connections: RedisConnection[]): Promise<number> {
  const sems = await Promise.all(connections.map((c) => RedisSemaphore.open(c, 'order', 1, POLL_MS)));
  await sems[0]!.acquire('holder');
  const admitted: number[] = [];
  const served: Array<Promise<void>> = [];
  for (let i = 0; i < ORDER_WAITERS; i++) {
    const sem = sems[i % sems.length]!;
    await new Promise<void>((arrived) => {
      served.push(sem.acquire(`w${i}`, arrived).then(async () => {
        arrived();
        admitted.push(i);
        await sem.release(`w${i}`);
      }));
    });
  }
  await sems[0]!.release('holder');
  await Promise.all(served);
  return overtakes(admitted);
}

/**
 * Release → admission on a limit-1 Redis semaphore, holder and waiter on
 * different connections, as `releaseToAdmission` measures Corral: the waiter
 * is polling (its first try refused) when the holder releases, at a random
 * moment of its poll period — a release does not wait for a poll.
 */
async function redisHandover(a: RedisSemaphore, b: RedisSemaphore): Promise<number[]> {
  const times: number[] = [];
  await a.acquire('h0');
  for (let i = 0; i < HANDOVERS; i++) {
    const [holder, waiter] = i % 2 === 0 ? [a, b] : [b, a];
    let arrived!: () => void;
    const waiting = new Promise<void>((r) => { arrived = r; });
    const admitted = waiter.acquire(`h${i + 1}`, arrived);
    await waiting;
    await sleep(Math.random() * POLL_MS);
    const t0 = performance.now();
    const release = holder.release(`h${i}`);
    await admitted;
    times.push(performance.now() - t0);
    await release;
  }
  await (HANDOVERS % 2 === 0 ? a : b).release(`h${HANDOVERS}`);
  return times;
}

/** The Redis baseline: handover latency and order violations, on 10 connections as Corral's side has 10 clients. */
async function redisBaseline(): Promise<{ lat: number[]; violations: number } | undefined> {
  return withRedisBaseline(async (redis) => {
    const connections = await Promise.all(Array.from({ length: 10 }, () => redis.connect()));
    const lat = await redisHandover(
      await RedisSemaphore.open(connections[1]!, 'handover', 1, POLL_MS),
      await RedisSemaphore.open(connections[2]!, 'handover', 1, POLL_MS),
    );
    return { lat, violations: await redisOrder(connections) };
  });
}

/**
 * 10,000 waiters behind one holder: hub heap per waiter, the time until every
 * waiter saw its position fall after a release, then release → admission at
 * the head of that queue (each admitted waiter releases at once).
 */
async function positionFanOut(clients: Client[], hub: LaunchedHub): Promise<{ informedMs: number; bytesPerWaiter: number; queued: number[] }> {
  const gates = clients.map((c) => Gate.open(c, 'fan-out'));
  await gates[0]!.create({ limit: 1, graceMs: 600_000 });
  const holder = await gates[0]!.acquire();
  const before = await heapUsed(hub);
  const waiters: GateWaiter[] = [];
  for (let i = 0; i < WAITERS; i += 500) {
    waiters.push(...await Promise.all(Array.from({ length: 500 }, (_, j) => gates[(i + j) % gates.length]!.enqueue())));
  }
  const bytesPerWaiter = ((await heapUsed(hub)) - before) / WAITERS;
  // Enqueued concurrently, the waiters joined in the order the hub received them: their first positions say it.
  const line = [...waiters].sort((a, b) => a.position - b.position);
  let informed = 0;
  const all = new Promise<void>((resolve) => {
    for (const w of line.slice(1)) w.once('position', () => { if (++informed === WAITERS - 1) resolve(); });
  });
  const t0 = performance.now();
  await holder.release();
  await all;
  const informedMs = performance.now() - t0;
  const queued: number[] = [];
  const releases: Array<Promise<void>> = [];
  let held = await line[0]!.admitted;
  for (let i = 1; i <= QUEUED_HANDOVERS; i++) {
    const t = performance.now();
    releases.push(held.release());
    held = await line[i]!.admitted;
    queued.push(performance.now() - t);
  }
  // Every release answered before the clients close: none is left to reject with CLIENT_CLOSED.
  await Promise.all(releases);
  for (const g of gates) g.close();
  return { informedMs, bytesPerWaiter, queued };
}

/** Gates: admissions per second, release → admission latency, position fan-out to 10,000 waiters, hub memory per waiter. */
export async function runGateBenchmark(): Promise<void> {
  const hub = await launchHub({ durability: 'process', nodeArgs: ['--expose-gc', '--import', GC_HOOK] });
  const clients = await Promise.all(Array.from({ length: 10 }, () => connect(hub.url)));
  let corral: { lat: number[]; violations: number };
  try {
    const g1 = Gate.open(clients[0]!, 'throughput');
    await g1.create({ limit: 50 });
    const rate = await admissionsPerSecond(g1);
    const a = Gate.open(clients[1]!, 'handover');
    await a.create({ limit: 1 });
    const lat = await releaseToAdmission(a, Gate.open(clients[2]!, 'handover'));
    const fan = await positionFanOut(clients, hub);
    corral = { lat, violations: await corralOrder(clients) };
    console.log('\n### Gates: one standalone hub on SQLite (durability process)\n');
    console.log(markdownTable(['measure', 'result', 'target'], [
      ['admissions per second (limit 50, 200 acquire/release loops, one client)', Math.round(rate).toLocaleString('en-US'), '—'],
      [`release → next admission p50 / p99 (${HANDOVERS} handovers)`, p50p99(lat), 'p99 < 5 ms'],
      [`release → next admission p50 / p99 behind ${WAITERS.toLocaleString('en-US')} waiters (${QUEUED_HANDOVERS} handovers)`, p50p99(fan.queued), '—'],
      [`position change reaching ${WAITERS.toLocaleString('en-US')} waiters`, `${fan.informedMs.toFixed(0)} ms`, '< 1000 ms'],
      ['hub heap per waiter (live, after a full GC)', `${Math.round(fan.bytesPerWaiter)} bytes`, '< 1 KB'],
    ]));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await hub.process.stop();
  }
  // Measured once the hub has stopped, so that the two do not share the cores.
  const redis = await redisBaseline();
  console.log(`\n### Gates: Corral's gate against a Redis semaphore acquired by polling (a refused caller retries after ${POLL_MS} ms)\n`);
  console.log(markdownTable(['measure', 'Corral', 'Redis (AOF, fsync 1 s)', 'target'], [
    [`release → next admission p50 / p99 (${HANDOVERS} handovers, limit 1)`, p50p99(corral.lat), redis ? p50p99(redis.lat) : REDIS_NOT_INSTALLED, 'p99 < 5 ms'],
    [`order violations: ${ORDER_WAITERS} waiters arriving one after another, limit 1 (admissions overtaking an earlier arrival)`,
      String(corral.violations), redis ? String(redis.violations) : REDIS_NOT_INSTALLED, '0'],
  ]));
  if (!redis) console.log(`\nRedis semaphore baseline: ${REDIS_NOT_INSTALLED}`);
}
