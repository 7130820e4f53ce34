import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectOptions } from '../src/client/index.js';
import { DeliveryAudit } from './delivery-audit.js';
import type { LaunchedHub } from './hub-launcher.js';
import { markdownTable } from './markdown-table.js';
import { median } from './median.js';
import { PacedPublisher } from './paced-publisher.js';
import { messageNumber } from './workloads/numbered-payload.js';
import { clusterBenchSystem, ownerHub, startCluster } from './systems/cluster-system.js';

export interface FailoverScenario {
  /** How the owner is taken away, in a few words. */
  label: string;
  signal: 'SIGKILL' | 'SIGSTOP';
  /** `corral start --lease` of every hub; Corral's default when absent. */
  leaseMs?: number;
}

/** SIGKILL (the process is gone, its sockets and PostgreSQL session close) and SIGSTOP (hung: nothing closes). */
export const FAILOVER_SCENARIOS: readonly FailoverScenario[] = [
  { label: 'SIGKILL', signal: 'SIGKILL' },
  { label: 'SIGSTOP (hubs run with --lease 1000)', signal: 'SIGSTOP', leaseMs: 1000 },
];

export const FAILOVER_REPETITIONS = 5;
const HUBS = 3;
const TOPIC = 'failover';
const RATE = 1000;
const WINDOW = 100;
/** Publishing and delivery run this long before the owner is taken away. */
const STEADY_MS = 3000;
/** Publishing goes on this long after both figures are in, so the check below also covers the recovered topic. */
const AFTER_MS = 1000;
const FIGURE_TIMEOUT_MS = 60_000;
/**
 * A hung hub keeps its sockets open, so a client only notices it by its
 * keepalive: an unanswered PING closes the connection after 2–3 intervals.
 * Corral's default interval is 30 s; the figure uses 500 ms, as a
 * deployment that wants fast failover would.
 */
const CLIENT_OPTIONS: ConnectOptions = { pingIntervalMs: 500 };

/** One repetition: ms from the signal to each figure, and what the check of the delivered stream found. */
export interface FailoverRun {
  ackMs: number;
  deliveryMs: number;
  /** The owner was the hub both clients bootstrapped from (the first address), so they also had to reconnect. */
  ownerWasBootstrap: boolean;
  published: number;
  failedPublishes: number;
  duplicates: number;
  missing: number;
  outOfOrder: number;
}

async function until(what: string, ready: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ready()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(2);
  }
}

/**
 * One repetition on a fresh cluster: a paced publisher and a subscriber on
 * one topic, both given every hub's address; after steady state the topic's
 * owner gets the scenario's signal. Timed from the signal to the first
 * acknowledgement of a publish made after it, and to the first delivery of
 * such a message.
 */
async function failoverOnce(s: FailoverScenario): Promise<FailoverRun> {
  const cluster = await startCluster({ hubs: HUBS, durability: 'fsync', leaseMs: s.leaseMs });
  let victim: LaunchedHub | undefined;
  try {
    const system = clusterBenchSystem(cluster, CLIENT_OPTIONS);
    let firstAfter = Infinity;
    let signalledAt = 0;
    let ackMs: number | undefined;
    let deliveryMs: number | undefined;
    const audit = new DeliveryAudit();
    const subscriber = await system.connect('failover-sub');
    const consumption = await subscriber.consume(TOPIC, 'watch', (d) => {
      const n = messageNumber(d.payload);
      d.ack();
      audit.record(n);
      if (n >= firstAfter && deliveryMs === undefined) deliveryMs = performance.now() - signalledAt;
    });
    const publisher = await system.connect('failover-pub');
    const sender = new PacedPublisher(publisher, TOPIC, RATE, WINDOW, (n) => {
      if (n >= firstAfter && ackMs === undefined) ackMs = performance.now() - signalledAt;
    });
    await sleep(STEADY_MS);
    if (sender.acked === 0 || sender.failures.length > 0) throw new Error(`no steady state before the signal: ${sender.acked} acknowledged, ${String(sender.failures[0])}`);
    const owner = await ownerHub(cluster, TOPIC);
    victim = owner;
    firstAfter = sender.sent;
    process.kill(owner.process.pid, s.signal);
    signalledAt = performance.now();
    await until('first acknowledged publish after the signal', () => ackMs !== undefined, FIGURE_TIMEOUT_MS);
    await until('first delivery of a message published after the signal', () => deliveryMs !== undefined, FIGURE_TIMEOUT_MS);
    // The hung hub comes back: it must find its lease gone and store nothing more (fencing).
    if (s.signal === 'SIGSTOP') process.kill(owner.process.pid, 'SIGCONT');
    await sleep(AFTER_MS);
    await sender.stop();
    const published = sender.sent;
    await until('delivery of every message published', () => audit.complete(published), FIGURE_TIMEOUT_MS).catch(() => undefined);
    await consumption.stop();
    await Promise.all([publisher.close(), subscriber.close()]);
    return {
      ackMs: ackMs!, deliveryMs: deliveryMs!, ownerWasBootstrap: owner === cluster.hubs[0], published,
      failedPublishes: sender.failures.length, duplicates: audit.duplicates, missing: audit.missing(published), outOfOrder: audit.outOfOrder,
    };
  } finally {
    // A stopped process would hold its SIGTERM until continued.
    if (victim?.process.running) process.kill(victim.process.pid, 'SIGCONT');
    await cluster.stop();
  }
}

export interface FailoverResult {
  scenario: FailoverScenario;
  runs: FailoverRun[];
  /** Why the repetitions that did not finish failed. */
  failures: string[];
}

export const FAILOVER_TITLE = `Failover: ${HUBS} hubs (fsync), 1 publisher at ${RATE.toLocaleString('en-US')} msgs/s with ${WINDOW} in flight `
  + `and 1 subscriber on one topic, both given all ${HUBS} addresses and a ${CLIENT_OPTIONS.pingIntervalMs} ms keepalive; `
  + `${FAILOVER_REPETITIONS} runs per row, each on a fresh cluster`;

/** `repetitions` runs of a scenario, each on a fresh cluster; progress and the check of each run go to stderr. */
export async function measureFailover(s: FailoverScenario, repetitions = FAILOVER_REPETITIONS): Promise<FailoverResult> {
  const result: FailoverResult = { scenario: s, runs: [], failures: [] };
  for (let i = 1; i <= repetitions; i++) {
    const label = `FAILOVER ${s.label} run ${i}/${repetitions}`;
    try {
      const r = await failoverOnce(s);
      process.stderr.write(`${label}: ack ${r.ackMs.toFixed(0)} ms, delivery ${r.deliveryMs.toFixed(0)} ms, `
        + `owner ${r.ownerWasBootstrap ? 'was' : 'was not'} the bootstrap hub; ${r.published} published, ${r.failedPublishes} failed, `
        + `${r.missing} missing, ${r.duplicates} duplicates, ${r.outOfOrder} out of order\n`);
      result.runs.push(r);
    } catch (err) {
      process.stderr.write(`${label} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      result.failures.push(err instanceof Error ? err.message.split('\n')[0]! : String(err));
    }
  }
  return result;
}

/** min / median / max of both figures per scenario. */
export function failoverTable(results: readonly FailoverResult[]): string {
  const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '—');
  const rows = results.flatMap(({ scenario, runs }) => ([
    ['first acknowledged publish made after the signal', runs.map((r) => r.ackMs)],
    ['first delivery of a message published after the signal', runs.map((r) => r.deliveryMs)],
  ] as const).map(([figure, values]) => [
    scenario.label, figure, String(values.length),
    ms(Math.min(...values)), ms(values.length > 0 ? median(values) : NaN), ms(Math.max(...values)),
  ]));
  return markdownTable(['signal to the owner hub', 'ms from the signal to the', 'runs', 'min ms', 'median ms', 'max ms'], rows);
}

/** What the check of the delivered streams found, and any failed runs, one line per scenario. */
export function failoverChecks(results: readonly FailoverResult[]): string {
  const sum = (runs: readonly FailoverRun[], f: (r: FailoverRun) => number): number => runs.reduce((n, r) => n + f(r), 0);
  return results.map(({ scenario, runs, failures }) => `${scenario.label}: the owner was the clients' bootstrap hub in `
    + `${runs.filter((r) => r.ownerWasBootstrap).length} of ${runs.length} runs; ${sum(runs, (r) => r.published).toLocaleString('en-US')} published, `
    + `${sum(runs, (r) => r.failedPublishes)} publishes failed, ${sum(runs, (r) => r.missing)} messages never delivered, `
    + `${sum(runs, (r) => r.duplicates)} redelivered, ${sum(runs, (r) => r.outOfOrder)} out of order`
    + (failures.length === 0 ? '' : `; ${failures.length} run(s) failed: ${failures.join(' | ')}`)).join('\n');
}
