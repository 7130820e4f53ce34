import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { FarmClock } from '../../src/services/clock/farm-clock.js';
import { Counters } from '../../src/services/counters/counters.js';
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
});
