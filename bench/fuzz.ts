import { randomInt } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { launchHub } from './hub-launcher.js';
import { hubStillServes, HubFuzzer } from './hub-fuzzer.js';
import { procMemory } from './server-process.js';

const USAGE = `npm run fuzz -- --frames N [options]

  Sends N fuzzed protocol frames (bench/frame-fuzzer.ts) to a fresh hub over
  several connections, in rounds; after each round checks that the hub runs,
  answers a well-behaved client (PING, publish and delivery) and has not
  grown past the memory bound. Exits 1 on any failure, naming the seed.

  --frames N            frames to send in all (default 100000)
  --seed S              replay a run (default: a random seed, printed)
  --connections K       fuzzing connections at once (default 4)
  --round N             frames per round between checks (default 20000)
  --max-growth-mb M     RSS the hub may gain over its size after the first
                        round (default 256)
  --help`;

const MB = 1024 * 1024;
const MAX_PAYLOAD = 4096;

function fail(why: string, seed: number): never {
  process.stderr.write(`FUZZ FAILED (seed ${seed}; replay with npm run fuzz -- --seed ${seed} …): ${why}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      frames: { type: 'string', default: '100000' },
      seed: { type: 'string' },
      connections: { type: 'string', default: '4' },
      round: { type: 'string', default: '20000' },
      'max-growth-mb': { type: 'string', default: '256' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const whole = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${v}`);
    return n;
  };
  const frames = whole('frames', values.frames);
  const seed = values.seed === undefined ? randomInt(0x1_0000_0000) : whole('seed', values.seed) >>> 0;
  const connections = Math.max(1, whole('connections', values.connections));
  const round = Math.max(1, whole('round', values.round));
  const maxGrowth = whole('max-growth-mb', values['max-growth-mb']) * MB;

  const hub = await launchHub({ durability: 'process', startArgs: ['--max-payload', String(MAX_PAYLOAD)] });
  const port = Number(new URL(hub.url.replace(/^corral:/, 'http:')).port);
  process.stdout.write(`fuzzing ${hub.url} (pid ${hub.process.pid}) with ${frames.toLocaleString('en-US')} frames over ${connections} connections; `
    + `seed ${seed}; node ${process.version}, ${cpus().length} cores\n`);
  const started = performance.now();
  const errors = new Map<string, number>();
  let sent = 0;
  let bytes = 0;
  let baseline: number | undefined;
  let peak = 0;
  try {
    for (let r = 0; sent < frames; r++) {
      const fuzzer = new HubFuzzer(port, (seed ^ Math.imul(r + 1, 0x85ebca6b)) >>> 0, connections, MAX_PAYLOAD);
      const n = Math.min(round, frames - sent);
      const roundStart = performance.now();
      await fuzzer.run(n).catch((err: unknown) => fail(`round ${r}: ${err instanceof Error ? err.message : String(err)}`, seed));
      sent += fuzzer.sent;
      bytes += fuzzer.bytes;
      for (const [code, k] of fuzzer.errors) errors.set(code, (errors.get(code) ?? 0) + k);
      if (!hub.process.running) fail(`the hub exited in round ${r}:\n${hub.process.recentOutput}`, seed);
      if (fuzzer.stuck.length > 0) fail(`round ${r}: the hub stopped answering a connection after ${JSON.stringify(fuzzer.stuck[0])}`, seed);
      await hubStillServes(hub.url, port).catch((err: unknown) => fail(`round ${r}: a well-behaved client is not served: ${err instanceof Error ? err.message : String(err)}`, seed));
      const rss = procMemory(hub.process.pid).vmRss;
      baseline ??= rss;
      peak = Math.max(peak, rss);
      const rate = fuzzer.sent / ((performance.now() - roundStart) / 1000);
      process.stdout.write(`${sent.toLocaleString('en-US')} frames  ${rate.toFixed(0)} frames/s  hub RSS ${(rss / MB).toFixed(1)} MB  `
        + `${fuzzer.connectionsOpened} connections (${fuzzer.closedByHub} closed by the hub)  errors: ${fuzzer.errorSummary()}\n`);
      if (rss - baseline > maxGrowth) fail(`hub RSS grew from ${(baseline / MB).toFixed(1)} MB to ${(rss / MB).toFixed(1)} MB (bound ${maxGrowth / MB} MB)`, seed);
    }
    const secs = (performance.now() - started) / 1000;
    const summary = [...errors].sort((a, b) => b[1] - a[1]).map(([code, k]) => `${code} ${k}`).join(', ');
    process.stdout.write(`\nOK: ${sent.toLocaleString('en-US')} frames (${(bytes / MB).toFixed(1)} MB) in ${secs.toFixed(1)} s, ${(sent / secs).toFixed(0)} frames/s; `
      + `hub RSS after round 1 ${((baseline ?? 0) / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB; the hub never exited or stopped answering\n`
      + `errors by code: ${summary}\n`);
  } finally {
    await hub.process.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
