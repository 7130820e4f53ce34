import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataSet, DataSetEditor, FarmClock, type Client } from '../../src/client/index.js';
import { eventually } from '../support/eventually.js';
import {
  clusterFixture, ownerOf, serviceClusterSuite, serviceStandaloneSuite, startCluster, type ServiceUnderTest,
} from '../support/service-test-kit.js';

/** The kit's counted request: an edit, then a schedule far ahead; each schedule is one compare-and-set of the table (rev + 1). */
const syncUnderTest: ServiceUnderTest = {
  name: 'sync',
  kind: 'sync',
  async request(client: Client, resource: string) {
    const editor = new DataSetEditor(client, resource.slice('sync|'.length));
    await editor.set('k', String(Math.random()));
    await editor.schedule({ at: Date.now() + 3600_000 });
  },
  storedCount: (data) => (data === null ? 0 : (JSON.parse(data) as { rev: number }).rev),
};

serviceStandaloneSuite(syncUnderTest);
serviceClusterSuite(syncUnderTest);

describe('data sets on a 3-hub cluster', () => {
  const fx = clusterFixture();

  it('the owner SIGKILLed just before an activation: servers switch at the instant, the set is taken over, every cycle rolls once', async () => {
    const hubs = await startCluster(fx);
    const admin = await fx.connect(hubs);
    const clock = await FarmClock.start(admin);
    const editor = new DataSetEditor(admin, 'prices');
    try {
      await editor.import([['a', '0'], ['b', '0']]);
      const first = await editor.schedule({ at: clock.now() + 1000, intervalMs: 1500 });
      const servers: DataSet[] = [];
      for (const skew of [-4 * 60_000, 4 * 60_000, 0]) {
        const c = await fx.connect(hubs);
        servers.push(await DataSet.open(c, 'prices', { clock: () => performance.timeOrigin + performance.now() + skew, pollMs: 300 }));
      }
      await eventually(() => { for (const s of servers) assert.equal(s.version, first.staged); });
      // Staged for the next instant, then the owner dies just before it.
      await editor.import([['a', '1'], ['b', '1']]);
      let staged = '';
      await eventually(async () => {
        const st = await editor.status();
        assert.notEqual(st.staged, st.active);
        staged = st.staged;
        for (const s of servers) assert.equal(s.pending?.version, staged);
      }, 20_000);
      const st = await editor.status();
      const { hub: owner, epoch } = await ownerOf(fx.stores.metadata, hubs, 'sync|prices');
      const at = Date.parse(st.activationAt!);
      await new Promise((r) => setTimeout(r, Math.max(0, at - clock.now() - 300)));
      await owner.kill('SIGKILL');
      fx.hubs.splice(fx.hubs.indexOf(owner), 1);
      // Staged before the owner died: every server switches on its own timer.
      await eventually(() => { for (const s of servers) assert.equal(s.version, staged); });
      for (const s of servers) assert.equal(s.getString('a'), '1');
      // The next owner rolls on: a further version activates everywhere.
      await editor.import([['a', '2'], ['b', '2']]);
      await eventually(() => { for (const s of servers) assert.equal(s.getString('b'), '2'); }, 30_000);
      const after = await editor.status();
      assert.ok(after.epoch > epoch, `epoch ${after.epoch} above ${epoch}`);
      const cycles = after.history.map((h) => h.cycle);
      const instants = after.history.map((h) => Date.parse(h.at));
      for (let i = 1; i < cycles.length; i++) {
        assert.equal(cycles[i], cycles[i - 1]! + 1);
        assert.ok(instants[i]! > instants[i - 1]!);
      }
      assert.equal(new Set(after.history.map((h) => h.at)).size, after.history.length, 'no instant rolled twice');
      for (const s of servers) s.close();
      await editor.schedule({ intervalMs: 0 });
    } finally {
      clock.close();
    }
  });
});

