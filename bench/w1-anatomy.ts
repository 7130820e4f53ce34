/**
 * Where W1's time goes: one hub (fsync), one publisher in this process with
 * 1,000 publishes in flight, and beside the rate the CPU of both sides, the
 * publisher's garbage collection and event-loop delay, and the hub's group
 * commits (from its /metrics). `node dist/bench/w1-anatomy.js [fsync|process]`
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { connect } from '../src/client/index.js';
import { launchHub } from './hub-launcher.js';
import { processCpuMs } from './process-cpu.js';
import { PUBLISH_WINDOW } from './workloads/limits.js';
import { PAYLOAD } from './workloads/payload.js';

const MESSAGES = 200_000;

/** The machine's CPU time, busy and in all, from /proc/stat (jiffies). */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait
  return { busy: total - fields[3]! - fields[4]!, total };
}

async function commitCounters(httpUrl: string): Promise<{ commits: number; records: number; seconds: number }> {
  const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN);
  return { commits: read('corral_commit_batch_records_count'), records: read('corral_commit_batch_records_sum'), seconds: read('corral_commit_seconds_sum') };
}

async function main(): Promise<void> {
  const durability = process.argv[2] === 'process' ? 'process' : 'fsync';
  const hub = await launchHub({ durability });
  const idle = await connect(hub.url, { name: 'w1-idle' });
  await (await idle.subscribe('w1', 'idle', { from: 'latest', credit: 1 })).close();
  const publisher = await connect(hub.url, { name: 'w1-pub' });
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  let gcMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcMaxMs = Math.max(gcMaxMs, e.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const before = await commitCounters(hub.httpUrl);
  const hubCpu0 = processCpuMs(hub.process.pid) ?? NaN;
  const cpu0 = process.cpuUsage();
  const machine0 = machineCpu();
  loopDelay.enable();
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: PUBLISH_WINDOW }, async () => {
    while (next < MESSAGES) {
      next++;
      await publisher.publish('w1', PAYLOAD);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  loopDelay.disable();
  gc.disconnect();
  const cpu = process.cpuUsage(cpu0);
  const machine1 = machineCpu();
  const hubCpuS = ((processCpuMs(hub.process.pid) ?? NaN) - hubCpu0) / 1000;
  const after = await commitCounters(hub.httpUrl);
  const commits = after.commits - before.commits;
  const fmt = (n: number, digits = 2): string => n.toFixed(digits);
  console.log(`W1 anatomy (${durability}), ${MESSAGES.toLocaleString('en-US')} × ${PAYLOAD.length} B, ${PUBLISH_WINDOW} in flight`);
  console.log(`  rate ${Math.round(MESSAGES / seconds).toLocaleString('en-US')} msgs/s over ${fmt(seconds)} s`);
  console.log(`  CPU: hub ${fmt(hubCpuS)} s (all threads), publisher ${fmt((cpu.user + cpu.system) / 1e6)} s; `
    + `the machine's cores ${fmt((100 * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total), 0)} % busy (kernel included)`);
  console.log(`  publisher: GC ${fmt(gcMs, 0)} ms (longest ${fmt(gcMaxMs, 1)} ms), event-loop delay p99 ${fmt(loopDelay.percentile(99) / 1e6, 1)} ms`);
  console.log(`  hub: ${commits} group commits, ${fmt((after.records - before.records) / commits, 0)} records and ${fmt(((after.seconds - before.seconds) / commits) * 1000)} ms each`);
  await publisher.close();
  await idle.close();
  await hub.process.stop();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
