import { connect, DataSet, DataSetEditor, FarmClock } from '../src/client/index.js';
import { startServer, skewOf, type FarmServer } from '../test/support/data-set-farm.js';
import { eventually } from '../test/support/eventually.js';
import { launchHub } from './hub-launcher.js';
import { markdownTable } from './markdown-table.js';
import { wakeFloor } from './wake-floor.js';

const KEYS = 10_000;
const VALUE_BYTES = 500;
const CYCLES = 10;
const LEAD_MS = 8000;
const FIRST_LEAD_MS = 30_000;
const GETS = 2_000_000;

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

function valueOf(cycle: number, i: number): string {
  return `${cycle}:`.padEnd(VALUE_BYTES, String.fromCharCode(97 + (i % 26)));
}

/** ns per lookup of `get` over all keys, repeated: the median of 5 rounds. */
function nsPerGet(get: (k: string) => unknown, keys: readonly string[]): number {
  const rounds: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < GETS; i++) if (get(keys[i % keys.length]!) !== undefined) sink++;
    rounds.push(Number(process.hrtime.bigint() - t0) / GETS);
  }
  if (sink === 0) throw new Error('no key found');
  return q(rounds, 0.5);
}

/**
 * SYNC: 50 server processes (clocks skewed by ±30 s to ±10 min) hold one
 * data set of 10,000 keys (about 5 MB); 10 cycles, the first a whole new
 * version, the rest with 1% of the keys changed. Spread of the activation
 * instants in true time (this machine's wall clock) across the servers,
 * retrieval time, bytes per server per cycle; then `get` next to a Map.
 */
export async function runSyncBenchmark(scale = 1): Promise<void> {
  // --scale shrinks the farm for a quick check (or a machine that cannot take 50 processes).
  const SERVERS = Math.max(2, Math.round(50 * scale));
  const hub = await launchHub({ durability: 'fsync' });
  const admin = await connect(hub.url);
  const clock = await FarmClock.start(admin);
  const editor = new DataSetEditor(admin, 'bench');
  let servers: FarmServer[] = [];
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `sku-${String(i).padStart(5, '0')}`);
    const current = new Map(keys.map((k, i) => [k, valueOf(0, i)]));
    await editor.import(current);
    await editor.schedule({ at: clock.now() + 1000 });
    // A few at a time: each bootstraps 5 MB from the one hub.
    for (let i = 0; i < SERVERS; i += 5) {
      // Settled, not all: a server that started while another failed is still killed in `finally`.
      const batch = await Promise.allSettled(Array.from({ length: Math.min(5, SERVERS - i) }, (_, j) => startServer(hub.url, 'bench', skewOf(i + j), 0, false, 120_000)));
      for (const r of batch) if (r.status === 'fulfilled') servers.push(r.value);
      const failed = batch.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const rows: string[][] = [];
    const spreads: number[] = [];
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      // Cycle 1 replaces every value; later cycles change 1% of the keys.
      const changed = cycle === 1 ? keys : keys.filter((_, i) => i % 100 === cycle);
      for (const k of changed) current.set(k, valueOf(cycle, keys.indexOf(k)));
      await editor.import(changed.map((k) => [k, current.get(k)!]));
      // The seed's rule: the interval exceeds the slowest retrieval; cycle 1 moves 5 MB to every server at once.
      const at = clock.now() + (cycle === 1 ? FIRST_LEAD_MS : LEAD_MS);
      const { staged } = await editor.schedule({ at });
      await eventually(() => {
        const behind = servers.filter((s) => s.version() !== staged);
        if (behind.length > 0) throw new Error(`cycle ${cycle}: ${behind.length} servers not at ${staged} (${behind.slice(0, 3).map((s) => s.version()).join(', ')})`);
      }, 120_000);
      const swaps = servers.map((s) => s.changes().find((c) => c.version === staged)!);
      const off = swaps.map((c) => c.at! - at);
      const spread = Math.max(...off) - Math.min(...off);
      spreads.push(spread);
      rows.push([String(cycle), cycle === 1 ? '100%' : '1%', q(off, 0.5).toFixed(2), q(off, 0.99).toFixed(2), Math.max(...off).toFixed(2), spread.toFixed(2),
        String(swaps.filter((c) => c.late).length), `${q(swaps.map((c) => Math.abs(c.clockError ?? NaN)), 0.5).toFixed(2)} / ${Math.max(...swaps.map((c) => Math.abs(c.clockError ?? NaN))).toFixed(2)} (± ${q(swaps.map((c) => c.errorBound ?? NaN), 0.5).toFixed(1)})`, q(swaps.map((c) => c.retrievalMs ?? 0), 0.5).toFixed(0), q(swaps.map((c) => c.bytes ?? 0), 0.5).toLocaleString('en-US')]);
    }
    console.log(`\n### SYNC: one data set of ${KEYS.toLocaleString('en-US')} keys (~${(KEYS * VALUE_BYTES / 1e6).toFixed(0)} MB), ${SERVERS} server processes, clocks skewed ±30 s to ±10 min\n`);
    console.log('Activation instant minus the scheduled instant, true time (ms), across the servers:\n');
    console.log(markdownTable(['cycle', 'keys changed', 'p50 ms', 'p99 ms', 'max ms', 'spread (max − min) ms', 'late', 'farm clock error p50 / max ms (bound p50)', 'retrieval p50 ms', 'bytes per server p50'], rows));
    console.log(`\nspread across ${SERVERS} processes, all cycles: p50 ${q(spreads, 0.5).toFixed(2)} ms, max ${Math.max(...spreads).toFixed(2)} ms`);
    // The same number of bare processes sleeping to one instant: what waking them costs this machine, in the same run.
    const floor = (await wakeFloor(SERVERS, CYCLES)).map((late) => Math.max(...late) - Math.min(...late));
    console.log(`machine floor, ${SERVERS} bare Node processes sleeping to one instant (no Corral): spread p50 ${q(floor, 0.5).toFixed(2)} ms, max ${Math.max(...floor).toFixed(2)} ms; `
      + `Corral / floor: p50 ${(q(spreads, 0.5) / q(floor, 0.5)).toFixed(2)}×`);
    const m = new Map(keys.map((k) => [k, Buffer.from(current.get(k)!)]));
    const ds = await DataSet.open(admin, 'bench');
    // In the order Map, DataSet, DataSet, Map, each the lower of its two: whichever
    // runs first would otherwise have the loop's call site to itself.
    const mapFirst = nsPerGet((k) => m.get(k), keys);
    const dsNs = Math.min(nsPerGet((k) => ds.get(k), keys), nsPerGet((k) => ds.get(k), keys));
    const mapNs = Math.min(mapFirst, nsPerGet((k) => m.get(k), keys));
    ds.close();
    console.log(`\nget: DataSet.get ${dsNs.toFixed(1)} ns, Map.get ${mapNs.toFixed(1)} ns (${(dsNs / mapNs).toFixed(2)}×), ${GETS.toLocaleString('en-US')} lookups, median of 5 rounds, the lower of two runs each`);
  } finally {
    await Promise.all(servers.map((s) => s.kill()));
    servers = [];
    clock.close();
    await admin.close();
    await hub.process.stop();
  }
}
