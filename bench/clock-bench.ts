import { connect, type Client } from '../src/client/index.js';
import type { Transport } from '../src/client/transport.js';
import { ClockFrame, encodeTimeRequest, FARM_CLOCK } from '../src/services/clock/clock-frames.js';
import { FarmClock } from '../src/services/clock/farm-clock.js';
import { launchHub } from './hub-launcher.js';
import { jitterTransport } from './jitter-transport.js';
import { markdownTable } from './markdown-table.js';
import { precise, wallMinusPrecise } from '../test/support/true-clock.js';

const ESTIMATES = 1000;
const PARALLEL = 10;
const SKEW_MS = 10 * 60_000;
const THROUGHPUT_MS = 3000;
const WINDOW = 256;

interface ClockRun {
  path: string;
  p50: number;
  p99: number;
  max: number;
  boundP50: number;
  outside: number;
}

async function estimateErrors(url: string, path: string, transport: Transport | undefined): Promise<ClockRun> {
  const clients: Client[] = await Promise.all(Array.from({ length: PARALLEL }, () => connect(url, transport ? { transport } : {})));
  const errors: number[] = [];
  const bounds: number[] = [];
  let outside = 0;
  try {
    await Promise.all(clients.map(async (client, i) => {
      const skew = i % 2 === 0 ? SKEW_MS : -SKEW_MS;
      for (let n = i; n < ESTIMATES; n += PARALLEL) {
        const clock = await FarmClock.start(client, { clock: () => precise() + skew });
        const t = clock.read();
        clock.close();
        const err = Math.abs(t.offset - (wallMinusPrecise() - skew));
        errors.push(err);
        bounds.push(t.errorBound);
        // The truth is itself read to within ~0.01 ms.
        if (err > t.errorBound + 0.01) outside++;
      }
    }));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  errors.sort((a, b) => a - b);
  bounds.sort((a, b) => a - b);
  const q = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  return { path, p50: q(errors, 0.5), p99: q(errors, 0.99), max: errors[errors.length - 1]!, boundP50: q(bounds, 0.5), outside };
}

async function requestsPerSecond(url: string): Promise<number> {
  const client = await connect(url);
  const channel = client.service('clock');
  let done = 0;
  const until = performance.now() + THROUGHPUT_MS;
  const started = performance.now();
  await Promise.all(Array.from({ length: WINDOW }, async () => {
    while (performance.now() < until) {
      await channel.request(ClockFrame.TIME_REQUEST, FARM_CLOCK, encodeTimeRequest(precise()));
      done++;
    }
  }));
  const rate = done / ((performance.now() - started) / 1000);
  await client.close();
  return rate;
}

/** The farm clock: estimate error against a known ±10 min skew, on loopback and with 1–5 ms jitter; TIME_REQUESTs per second. */
export async function runClockBenchmark(): Promise<void> {
  const hub = await launchHub({ durability: 'process' });
  try {
    const runs = [
      await estimateErrors(hub.url, 'loopback', undefined),
      await estimateErrors(hub.url, 'loopback + 1-5 ms jitter each way', jitterTransport(1, 5)),
    ];
    const rate = await requestsPerSecond(hub.url);
    console.log(`\n### Farm clock: offset estimate error over ${ESTIMATES} estimates (8 round trips each, client skewed ±10 min), one hub on SQLite\n`);
    console.log(markdownTable(['path', 'error p50 ms', 'error p99 ms', 'error max ms', 'reported bound p50 ms', 'estimates outside their bound'],
      runs.map((r) => [r.path, r.p50.toFixed(3), r.p99.toFixed(3), r.max.toFixed(3), r.boundP50.toFixed(3), String(r.outside)])));
    console.log(`\nTIME_REQUESTs through one hub: ${Math.round(rate).toLocaleString('en-US')} per second (${WINDOW} in flight, one client)`);
  } finally {
    await hub.process.stop();
  }
}
