import { connect, type Client } from '../src/client/index.js';
import { Gate } from '../src/services/gates/gate.js';
import type { GateWaiter } from '../src/services/gates/gate-waiter.js';
import { GC_DONE } from './gc-on-signal.js';
import { launchHub, type LaunchedHub } from './hub-launcher.js';
import { markdownTable } from './markdown-table.js';

const THROUGHPUT_MS = 3000;
const HANDOVERS = 500;
const WAITERS = 10_000;
/** Handovers measured at the head of the 10,000-waiter queue. */
const QUEUED_HANDOVERS = 200;

const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

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
  try {
    const g1 = Gate.open(clients[0]!, 'throughput');
    await g1.create({ limit: 50 });
    const rate = await admissionsPerSecond(g1);
    const a = Gate.open(clients[1]!, 'handover');
    await a.create({ limit: 1 });
    const lat = await releaseToAdmission(a, Gate.open(clients[2]!, 'handover'));
    const fan = await positionFanOut(clients, hub);
    console.log('\n### Gates: one standalone hub on SQLite (durability process)\n');
    console.log(markdownTable(['measure', 'result', 'target'], [
      ['admissions per second (limit 50, 200 acquire/release loops, one client)', Math.round(rate).toLocaleString('en-US'), '—'],
      [`release → next admission p50 / p99 (${HANDOVERS} handovers)`, `${q(lat, 0.5).toFixed(2)} / ${q(lat, 0.99).toFixed(2)} ms`, 'p99 < 5 ms'],
      [`release → next admission p50 / p99 behind ${WAITERS.toLocaleString('en-US')} waiters (${QUEUED_HANDOVERS} handovers)`,
        `${q(fan.queued, 0.5).toFixed(2)} / ${q(fan.queued, 0.99).toFixed(2)} ms`, '—'],
      [`position change reaching ${WAITERS.toLocaleString('en-US')} waiters`, `${fan.informedMs.toFixed(0)} ms`, '< 1000 ms'],
      ['hub heap per waiter (live, after a full GC)', `${Math.round(fan.bytesPerWaiter)} bytes`, '< 1 KB'],
    ]));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await hub.process.stop();
  }
}
