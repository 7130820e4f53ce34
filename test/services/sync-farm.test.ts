import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { connect, DataSetEditor, FarmClock, type Client } from '../../src/client/index.js';
import { eventually } from '../support/eventually.js';
import { startServer, startServers, skewOf, type FarmServer } from '../support/data-set-farm.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

const FARM = 20;
const KEYS = 200;
/** Staging lead: ample for every server to retrieve on a loaded two-core machine. */
const LEAD_MS = 3000;

const generation = (gen: string): Array<[string, string]> => Array.from({ length: KEYS }, (_, i) => [`sku-${i}`, gen]);

describe('a farm of server processes with skewed clocks', () => {
  let hub: HubProcess | undefined;
  let admin: Client | undefined;
  let clock: FarmClock | undefined;
  let servers: FarmServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.kill()));
    servers = [];
    clock?.close();
    await admin?.close();
    await hub?.stop();
  });
  const begin = async (): Promise<DataSetEditor> => {
    hub = await startHub();
    admin = await connect(hub.url);
    clock = await FarmClock.start(admin);
    return new DataSetEditor(admin, 'prices');
  };

  it(`${FARM} servers activate every version at its instant, none early, none late, no reader sees a mix`, async () => {
    const editor = await begin();
    await editor.import(generation('g0'));
    await editor.schedule({ at: clock!.now() + 1000 });
    servers = await startServers(Array.from({ length: FARM }, (_, i) => () => startServer(hub!.url, 'prices', skewOf(i))));
    await eventually(() => { for (const s of servers) assert.notEqual(s.version(), ''); });
    for (const gen of ['g1', 'g2', 'g3']) {
      await editor.import(generation(gen));
      const at = clock!.now() + LEAD_MS;
      const { staged } = await editor.schedule({ at });
      await eventually(() => { for (const s of servers) assert.equal(s.version(), staged); }, 30_000);
      const swaps = servers.map((s) => s.changes().find((c) => c.version === staged)!);
      for (const c of swaps) {
        assert.equal(c.late, false);
        assert.equal(c.bootstrap, false);
        assert.equal(c.size, KEYS);
        assert.equal(c.scheduledAt, at);
        // Farm time is this machine's clock here: nobody switched before the
        // instant by more than its farm clock's error bound said it might
        // (plus 1 ms for the true clock's own calibration).
        assert.ok(c.at! >= at - c.errorBound! - 1, `switched ${(at - c.at!).toFixed(1)} ms early, with an error bound of ${c.errorBound!.toFixed(1)} ms`);
      }
      const instants = swaps.map((c) => c.at!);
      const spread = Math.max(...instants) - Math.min(...instants);
      // The skews span 20 minutes; the switch happens within a fraction of a second (benchmarked: SYNC).
      assert.ok(spread < 1000, `spread ${spread.toFixed(1)} ms`);
    }
    for (const s of servers) assert.equal(s.changes().at(-1)!.mixes, 0);
    await eventually(async () => {
      const st = await editor.status();
      const v = st.versions.find((x) => x.state === 'active')!;
      assert.equal(v.activated, FARM);
      assert.equal(v.late, 0);
    });
  });

  it('a server killed mid-retrieval and restarted catches up with the version, whole', async () => {
    const editor = await begin();
    const big = (gen: string): Array<[string, string]> => Array.from({ length: 1000 }, (_, i) => [`k${String(i).padStart(4, '0')}`, gen.repeat(300)]);
    await editor.import(big('a'));
    const first = await editor.schedule({ at: clock!.now() + 800 });
    const slow = await startServer(hub!.url, 'prices', -5 * 60_000, 2048);
    servers.push(slow);
    await eventually(() => assert.equal(slow.version(), first.staged));
    await editor.import(big('b'));
    const second = await editor.schedule({ at: clock!.now() + 4000 });
    await eventually(() => assert.ok(slow.events.some((e) => e.event === 'retrieving' && e.version === second.staged)));
    await slow.kill();
    assert.notEqual(slow.version(), second.staged, 'killed before it activated');
    const again = await startServer(hub!.url, 'prices', 5 * 60_000);
    servers.push(again);
    await eventually(() => assert.equal(again.version(), second.staged));
    const last = again.events.filter((e) => e.event === 'ready' || e.event === 'change').at(-1)!;
    assert.equal(last.size, 1000);
    assert.equal(last.late ?? false, false);
  });

  it('the hub SIGKILLed at an activation instant and restarted: the cycle goes on, each cycle rolled once', async () => {
    const editor = await begin();
    await editor.import(generation('c0'));
    await editor.schedule({ at: clock!.now() + 800, intervalMs: 1000 });
    servers = await startServers([0, 1, 2].map((i) => () => startServer(hub!.url, 'prices', skewOf(i))));
    let gen = 0;
    const editing = setInterval(() => { editor.import(generation(`c${++gen}`)).catch(() => undefined); }, 250);
    try {
      for (let round = 0; round < 2; round++) {
        const st = await editor.status();
        const at = Date.parse(st.activationAt!);
        await new Promise((r) => setTimeout(r, Math.max(0, at - clock!.now())));
        const { dataDir, port } = hub!;
        await hub!.kill('SIGKILL');
        hub = await startHub({ dataDir, port });
        // Two more cycles roll after the restart.
        const cycle = st.cycle;
        await eventually(async () => assert.ok((await editor.status()).cycle >= cycle + 3));
      }
    } finally {
      clearInterval(editing);
    }
    const st = await editor.status();
    const instants = st.history.map((h) => Date.parse(h.at));
    const cycles = st.history.map((h) => h.cycle);
    for (let i = 1; i < cycles.length; i++) {
      assert.equal(cycles[i], cycles[i - 1]! + 1, `cycles ${cycles.join(',')}`);
      assert.ok(instants[i]! > instants[i - 1]!, 'each instant rolled once, in order');
    }
    await eventually(async () => {
      const active = (await editor.status()).active;
      for (const s of servers) assert.equal(s.version(), active);
    }, 20_000);
    for (const s of servers) {
      const versions = s.changes().map((c) => c.version);
      assert.equal(new Set(versions).size, versions.length, `no version activated twice: ${versions.join(',')}`);
      assert.equal(s.changes().at(-1)!.mixes, 0);
    }
  });
});
