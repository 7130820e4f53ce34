import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { FarmClock } from '../../src/services/clock/farm-clock.js';
import { Counters } from '../../src/services/counters/counters.js';
import type { TreeView } from '../../src/services/counters/counters-frames.js';
import { parseWindow, WINDOWS_KEPT } from '../../src/services/counters/ended-windows.js';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

describe('windowed counters on the farm clock', () => {
  let hub: HubProcess;
  const clients: Client[] = [];
  before(async () => { hub = await startHub(); });
  after(async () => {
    for (const c of clients) await c.close();
    await hub.stop();
  });

  it('two members switch windows at the same farm-clock instant, each window\'s count is exact, and ended windows leave the members\' memory', async () => {
    const windowMs = 400;
    const join = async (memberId: string): Promise<Counters> => {
      const client = await connect(hub.url);
      clients.push(client);
      return Counters.join(client, { memberId, partition: 'limits', syncIntervalMs: 20 });
    };
    const [a, b] = [await join('a'), await join('b')];
    // Each member reads farm time through its own clock (here skewed by ±5 s from this machine's): the window follows the farm, not the machine.
    const skewed = async (c: Counters, by: number): Promise<FarmClock> => {
      const fc = await FarmClock.start(clients[c === a ? 0 : 1]!, { clock: () => Date.now() + by });
      return fc;
    };
    const [ca, cb] = [await skewed(a, 5_000), await skewed(b, -5_000)];
    const wa = await a.windowed('calls', { windowMs, clock: ca });
    const wb = await b.windowed('calls', { windowMs, clock: cb });
    // Made per window, as each member saw the window when it counted.
    const made = new Map<number, bigint>();
    const count = (w: typeof wa, n: bigint): void => {
      const i = w.windowIndex;
      w.increment(n);
      made.set(i, (made.get(i) ?? 0n) + n);
    };
    const first = wa.windowIndex;
    // Count through at least three window boundaries.
    while (wa.windowIndex < first + 3 || wb.windowIndex < first + 3) {
      count(wa, 1n);
      count(wb, 2n);
      // Away from a boundary (farm clocks agree within their error bounds), both members are in the same window.
      const ra = ca.read();
      if (ra.now % windowMs > 50 && ra.now % windowMs < windowMs - 50) assert.equal(wa.windowIndex, wb.windowIndex);
      await new Promise((r) => setTimeout(r, 3));
    }
    await a.sync();
    await b.sync();
    // An observer reads each ended window's variable: its count is exactly what both made in it.
    const observer = await join('observer');
    const windows = [...made.keys()].sort((x, y) => x - y);
    assert.ok(windows.length >= 3, `${windows.length} windows`);
    await observer.subscribe(...windows.map((i) => `calls@${i}`));
    for (const i of windows) assert.equal(observer.value(`calls@${i}`), made.get(i), `window ${i}`);
    // Ended windows are dropped from each member's memory once delivered (the member moves on when it next counts or reads).
    await eventually(async () => {
      for (const [m, w] of [[a, wa], [b, wb]] as const) {
        w.increment(0n);
        await m.sync();
        assert.deepEqual(m.variableNames().filter((n) => n.startsWith('calls@')), [w.variable()]);
      }
    });
    ca.close();
    cb.close();
  });

  it('windows older than the newest WINDOWS_KEPT leave the root, the branch and the members, also after a restart; a late exchange naming one is ignored', async () => {
    const windowMs = 1000;
    let now = 0;
    // Farm time set by the test: each window is entered when the test says.
    const clock = { now: (): number => now };
    const join = async (memberId: string, branch?: string): Promise<Counters> => {
      const client = await connect(hub.url, { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
      clients.push(client);
      return Counters.join(client, { memberId, partition: 'gc', branch, syncIntervalMs: 3_600_000 });
    };
    const counting = await join('counting', 'rack-1');
    const observer = await join('observer');
    const late = await join('late');
    // Window 0 gets 1 from `late`, delivered; the next 1 is only sent after window 0 is gone.
    late.increment('calls@0');
    late.increment('other');
    await late.sync();
    late.increment('calls@0');
    const calls = await counting.windowed('calls', { windowMs, clock });
    const total = WINDOWS_KEPT + 5;
    for (let i = 0; i < total; i++) {
      now = i * windowMs;
      calls.increment(i + 1);
      await counting.sync();
      await observer.subscribe(calls.variable());
    }
    const kept = Array.from({ length: WINDOWS_KEPT }, (_, k) => `calls@${total - WINDOWS_KEPT + k}`);
    const windowsIn = (t: TreeView): string[] => t.variables.map((v) => v.name).filter((n) => n.startsWith('calls@')).sort((x, y) => parseWindow(x)!.index - parseWindow(y)!.index);
    await eventually(async () => {
      await observer.sync();
      assert.equal(observer.value(`calls@${total - 1}`), BigInt(total));
      assert.equal(observer.value(`calls@${total - WINDOWS_KEPT}`), BigInt(total - WINDOWS_KEPT + 1));
      assert.deepEqual(windowsIn(await Counters.readTree(clients[0]!, 'gc')), kept);
      assert.deepEqual(windowsIn(await Counters.readTree(clients[0]!, 'gc', 'rack-1')), kept);
      assert.deepEqual(observer.variableNames().filter((n) => n.startsWith('calls@')), kept);
      assert.deepEqual(counting.variableNames().filter((n) => n.startsWith('calls@')), [`calls@${total - 1}`]);
    });
    // `late` still sends window 0's total, under a token the root dropped: ignored, and the rest of its exchange applies.
    late.increment('other');
    await late.sync();
    await observer.subscribe('other');
    await eventually(async () => {
      await observer.sync();
      assert.equal(observer.value('other'), 2n);
    });
    assert.ok(!(await Counters.readTree(clients[0]!, 'gc')).variables.some((v) => v.name === 'calls@0'));
    // What is stored is what is kept: a restarted hub loads the same windows and values.
    await hub.kill('SIGKILL');
    hub = await startHub({ dataDir: hub.dataDir, port: hub.port });
    await eventually(async () => {
      const root = await Counters.readTree(clients[0]!, 'gc');
      assert.deepEqual(windowsIn(root), kept);
      assert.equal(root.variables.find((v) => v.name === `calls@${total - 1}`)?.global, String(total));
    });
  });
});
