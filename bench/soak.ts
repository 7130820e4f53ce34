import { randomInt } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { connect, type Client } from '../src/client/index.js';
import { startPostgres, type PostgresServer } from '../src/cli/embedded-postgres.js';
import { removeDir, startHub, tempDir, type HubProcess } from '../test/support/hub-process.js';
import { Rng } from '../test/support/rng.js';
import { markdownTable } from './markdown-table.js';
import { PacedPublisher } from './paced-publisher.js';
import { procMemory } from './server-process.js';
import { SoakAudit } from './soak-audit.js';
import { CorralBenchClient } from './systems/corral-system.js';
import { messageNumber } from './workloads/numbered-payload.js';

const USAGE = `npm run soak -- --minutes N [options]

  A 3-hub cluster on an embedded PostgreSQL under continuous publish/subscribe
  load while, one at a time at random intervals, a hub is killed (SIGKILL) and
  restarted, a hub is paused (SIGSTOP) past its lease and resumed (SIGCONT),
  and PostgreSQL is restarted. Afterwards every acknowledged message must
  have reached every subscription, in order. Prints a summary table; exits 1
  on any loss or reordering.

  --minutes N           length of the load-and-faults phase (default 5)
  --seed S              seed of the fault schedule (default random, printed)
  --topics T            topics, one paced publisher each (default 4)
  --subscriptions K     subscriptions per topic, one client each (default 2)
  --rate R              messages per second per topic (default 50)
  --lease MS            the hubs' --lease (default 2000)
  --gap-ms MS           mean pause between two faults (default 4000)
  --faults LIST         fault kinds to inject: kill,pause,postgres (default all)
  --help`;

const MB = 1024 * 1024;
const HUBS = 3;
const RSS_EVERY_MS = 5000;
/** Time to deliver what is still in flight once the faults stop. */
const DRAIN_MS = 180_000;

type FaultKind = 'SIGKILL + restart' | 'SIGSTOP past the lease' | 'PostgreSQL restart';
const FAULT_KINDS: readonly FaultKind[] = ['SIGKILL + restart', 'SIGSTOP past the lease', 'PostgreSQL restart'];
/** `--faults` names of the kinds, in FAULT_KINDS order. */
const FAULT_NAMES = ['kill', 'pause', 'postgres'] as const;

interface RssStats { first: number; last: number; max: number }

/** One hub of the cluster across its restarts: same port and data directory, as an operator's service manager would. */
class HubSlot {
  restarts = 0;
  rss: RssStats | undefined;
  paused = false;

  constructor(public hub: HubProcess, private readonly args: string[]) {}

  get running(): boolean {
    return this.hub.child.exitCode === null && this.hub.child.signalCode === null;
  }

  async restart(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.hub = await startHub({ dataDir: this.hub.dataDir, port: this.hub.port, args: this.args });
        this.restarts++;
        return;
      } catch (err) {
        // The port may still be held for a moment by the killed process's sockets.
        if (attempt >= 5) throw err;
        await sleep(500 * attempt);
      }
    }
  }

  /** The hub died without a fault doing it: how, and the end of its log. */
  exitReport(): string {
    const { exitCode, signalCode } = this.hub.child;
    const tail = this.hub.stderr().trimEnd().split('\n').slice(-40).join('\n');
    return `exit ${exitCode ?? signalCode}; last log lines:\n${tail}`;
  }

  sample(): void {
    if (!this.running) return;
    const rss = procMemory(this.hub.pid).vmRss;
    // A process being killed has no VmRSS line any more.
    if (Number.isNaN(rss)) return;
    this.rss = this.rss === undefined ? { first: rss, last: rss, max: rss } : { first: this.rss.first, last: rss, max: Math.max(this.rss.max, rss) };
  }
}

interface TopicLoad {
  topic: string;
  publisherClient: Client;
  publisher: PacedPublisher;
  acked: Set<number>;
  audits: Array<{ name: string; audit: SoakAudit; resubscribes: number }>;
}

/** Closes every subscription `consume` opened: the end of the run. */
const stopSubs: Array<() => Promise<void>> = [];

/** Consumes `subscription` from the start, auditing each message and acking it; re-subscribes if the subscription ends with an error. */
async function consume(client: Client, topic: string, name: string, entry: TopicLoad['audits'][number], stopping: () => boolean): Promise<void> {
  while (!stopping()) {
    try {
      const sub = await client.subscribe(topic, name, { from: 'earliest' });
      stopSubs.push(() => sub.close());
      for await (const msg of sub) {
        entry.audit.record(messageNumber(msg.payload), msg.seq);
        msg.ack();
      }
    } catch {
      if (stopping()) return;
      entry.resubscribes++;
      await sleep(200);
    }
  }
}
function log(line: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '5' },
      seed: { type: 'string' },
      topics: { type: 'string', default: '4' },
      subscriptions: { type: 'string', default: '2' },
      rate: { type: 'string', default: '50' },
      lease: { type: 'string', default: '2000' },
      'gap-ms': { type: 'string', default: '4000' },
      faults: { type: 'string', default: FAULT_NAMES.join(',') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const num = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  const minutes = num('minutes', values.minutes);
  const seed = values.seed === undefined ? randomInt(0x1_0000_0000) : num('seed', values.seed) >>> 0;
  const topicCount = Math.round(num('topics', values.topics));
  const subsPerTopic = Math.round(num('subscriptions', values.subscriptions));
  const rate = num('rate', values.rate);
  const leaseMs = Math.round(num('lease', values.lease));
  const gapMs = num('gap-ms', values['gap-ms']);
  const rng = new Rng(seed);
  const kinds = values.faults.split(',').map((name) => {
    const i = FAULT_NAMES.indexOf(name as (typeof FAULT_NAMES)[number]);
    if (i < 0) throw new Error(`--faults: unknown kind ${name} (kill, pause, postgres)`);
    return FAULT_KINDS[i]!;
  });

  log(`soak: ${kinds.join(', ')}; ${HUBS} hubs (--lease ${leaseMs}) on embedded PostgreSQL, ${topicCount} topics × ${rate} msgs/s, ${subsPerTopic} subscriptions each, `
    + `${minutes} min of faults; seed ${seed}; node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`);
  const pg: PostgresServer = await startPostgres();
  const hubArgs = ['--store', pg.url, '--lease', String(leaseMs)];
  const slots = (await Promise.all(Array.from({ length: HUBS }, () => startHub({ dataDir: tempDir('corral-soak-'), args: hubArgs }))))
    .map((h) => new HubSlot(h, hubArgs));
  const url = `corral://${slots.map((s) => `127.0.0.1:${s.hub.port}`).join(',')}`;
  const clients: Client[] = [];
  const open = async (name: string): Promise<Client> => {
    const c = await connect(url, { name });
    clients.push(c);
    return c;
  };
  let stopping = false;
  const faults = new Map<FaultKind, number>(kinds.map((k) => [k, 0]));
  const loads: TopicLoad[] = [];
  const consumers: Array<Promise<void>> = [];
  const sampler = setInterval(() => { for (const s of slots) s.sample(); }, RSS_EVERY_MS);
  let exitCode = 0;
  let unexpectedExits = 0;
  try {
    for (const s of slots) s.sample();
    for (let t = 0; t < topicCount; t++) {
      const topic = `soak.t${t}`;
      const audits = Array.from({ length: subsPerTopic }, (_, k) => ({ name: `sub${k}`, audit: new SoakAudit(), resubscribes: 0 }));
      // Subscriptions exist before the first publish, so each must see every message.
      for (const entry of audits) {
        const c = await open(`soak-${topic}-${entry.name}`);
        await (await c.subscribe(topic, entry.name, { from: 'earliest' })).close();
        consumers.push(consume(c, topic, entry.name, entry, () => stopping));
      }
      const publisherClient = await open(`soak-${topic}-pub`);
      const acked = new Set<number>();
      const publisher = new PacedPublisher(new CorralBenchClient(publisherClient), topic, rate, 100, (n) => acked.add(n));
      loads.push({ topic, publisherClient, publisher, acked, audits });
    }

    const until = Date.now() + minutes * 60_000;
    while (Date.now() < until) {
      await sleep(gapMs / 2 + rng.int(gapMs));
      // A hub that exited on its own is a defect the soak reports (and restarts, as a service manager would).
      for (const [i, slot] of slots.entries()) {
        if (slot.running) continue;
        log(`hub ${i + 1} exited on its own (${slot.exitReport()})`);
        unexpectedExits++;
        await slot.restart();
      }
      if (Date.now() >= until) break;
      // The kind done least so far (ties at random): the counts stay even.
      const least = Math.min(...faults.values());
      const kind = rng.pick(kinds.filter((k) => faults.get(k) === least));
      const slot = rng.pick(slots);
      const i = slots.indexOf(slot);
      const t0 = Date.now();
      if (kind === 'SIGKILL + restart') {
        await slot.hub.kill('SIGKILL');
        await sleep(200 + rng.int(1500));
        await slot.restart();
      } else if (kind === 'SIGSTOP past the lease') {
        process.kill(slot.hub.pid, 'SIGSTOP');
        slot.paused = true;
        await sleep(leaseMs + 1000 + rng.int(2000));
        process.kill(slot.hub.pid, 'SIGCONT');
        slot.paused = false;
      } else {
        await pg.stopServer();
        await sleep(200 + rng.int(1500));
        await pg.startServer();
      }
      faults.set(kind, faults.get(kind)! + 1);
      const acked = loads.reduce((n, l) => n + l.acked.size, 0);
      const sent = loads.reduce((n, l) => n + l.publisher.sent, 0);
      log(`${kind}${kind === 'PostgreSQL restart' ? '' : ` of hub ${i + 1}`} (${Date.now() - t0} ms); ${sent} published, ${acked} acknowledged so far; `
        + `RSS ${slots.map((s) => (s.rss ? `${(s.rss.last / MB).toFixed(0)}` : '?')).join('/')} MB`);
    }

    log('faults stopped; draining');
    await Promise.all(loads.map((l) => l.publisher.stop()));
    const deadline = Date.now() + DRAIN_MS;
    while (Date.now() < deadline && loads.some((l) => l.audits.some((a) => a.audit.lost(l.acked) > 0))) await sleep(250);
    for (const s of slots) s.sample();
  } finally {
    stopping = true;
    clearInterval(sampler);
    for (const s of slots) if (s.running && s.paused) process.kill(s.hub.pid, 'SIGCONT');
    await Promise.allSettled(stopSubs.map((f) => f()));
    await Promise.allSettled(consumers);
    await Promise.allSettled(clients.map((c) => c.close()));
  }

  const sum = (f: (l: TopicLoad) => number): number => loads.reduce((n, l) => n + f(l), 0);
  const perSub = (f: (a: SoakAudit, l: TopicLoad) => number): number => loads.reduce((n, l) => n + l.audits.reduce((m, a) => m + f(a.audit, l), 0), 0);
  const lost = perSub((a, l) => a.lost(l.acked));
  const reordered = perSub((a, l) => a.reordered(l.acked));
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const rows: string[][] = [
    ...FAULT_KINDS.map((k) => [`faults: ${k}`, fmt(faults.get(k) ?? 0)]),
    ['messages published', fmt(sum((l) => l.publisher.sent))],
    ['messages acknowledged', fmt(sum((l) => l.acked.size))],
    ['publishes not acknowledged (outcome unknown)', fmt(sum((l) => l.publisher.failures.length))],
    [`messages delivered (distinct, over ${topicCount * subsPerTopic} subscriptions)`, fmt(perSub((a) => a.delivered))],
    ['acknowledged messages lost', fmt(lost)],
    ['acknowledged messages reordered', fmt(reordered)],
    ['redeliveries (duplicates)', fmt(perSub((a) => a.duplicates))],
    ['hubs that exited on their own', fmt(unexpectedExits)],
    ['subscriptions re-attached after an error', fmt(loads.reduce((n, l) => n + l.audits.reduce((m, a) => m + a.resubscribes, 0), 0))],
    ...slots.map((s, i) => [`hub ${i + 1} RSS first / last / max MB (${s.restarts} restarts)`,
      s.rss ? `${(s.rss.first / MB).toFixed(1)} / ${(s.rss.last / MB).toFixed(1)} / ${(s.rss.max / MB).toFixed(1)}` : '—']),
  ];
  process.stdout.write(`\n${markdownTable(['soak (seed ' + seed + ')', 'value'], rows)}\n`);
  const firstFailure = loads.flatMap((l) => l.publisher.failures.slice(0, 1).map((e) => `${l.topic}: ${e instanceof Error ? e.message : String(e)}`))[0];
  if (firstFailure) process.stdout.write(`first unacknowledged publish: ${firstFailure}\n`);
  for (const l of loads) {
    for (const a of l.audits) {
      const r = a.audit.reorderings(l.acked);
      if (r.length > 0) process.stdout.write(`${l.topic}/${a.name}: ${r.length} reordered, first ${JSON.stringify(r.slice(0, 3))}\n`);
    }
  }
  if (lost > 0 || reordered > 0 || unexpectedExits > 0) {
    process.stdout.write(`SOAK FAILED: ${lost} acknowledged messages lost, ${reordered} reordered, ${unexpectedExits} hubs exited on their own (seed ${seed})\n`);
    exitCode = 1;
  }
  for (const s of slots) {
    await s.hub.stop();
    removeDir(s.hub.dataDir);
  }
  await pg.stop();
  process.exit(exitCode);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
