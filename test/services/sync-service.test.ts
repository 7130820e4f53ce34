import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Socket } from 'node:net';
import { connect, DataSet, DataSetEditor, FarmClock, type Client, type DataSetChange } from '../../src/client/index.js';
import { tcpTransport } from '../../src/client/transport.js';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

const TEN_MINUTES = 10 * 60_000;
const trueNow = (): number => performance.timeOrigin + performance.now();

/** Waits for the next `change` of a data set (with a deadline). */
function nextChange(ds: DataSet, timeoutMs = 20_000): Promise<DataSetChange> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no change of ${ds.name} within ${timeoutMs} ms`)), timeoutMs);
    ds.once('change', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
}

describe('synchronized data sets on a standalone hub', () => {
  let hub: HubProcess;
  let admin: Client;
  let clock: FarmClock;
  const clients: Client[] = [];
  const sets: DataSet[] = [];
  before(async () => {
    hub = await startHub();
    admin = await connect(hub.url);
    clock = await FarmClock.start(admin);
  });
  after(async () => {
    for (const s of sets) s.close();
    clock.close();
    for (const c of clients) await c.close();
    await admin.close();
    await hub.stop();
  });
  const server = async (name: string, skew: number): Promise<DataSet> => {
    const c = await connect(hub.url);
    clients.push(c);
    const ds = await DataSet.open(c, name, { clock: () => trueNow() + skew });
    sets.push(ds);
    return ds;
  };

  it('two servers with clocks 10 minutes apart switch at the same instant; every key of the new version at once', async () => {
    const editor = new DataSetEditor(admin, 'prices');
    await editor.import(Array.from({ length: 100 }, (_, i) => [`sku-${i}`, 'v1']));
    const ahead = await server('prices', TEN_MINUTES);
    const behind = await server('prices', -TEN_MINUTES);
    assert.equal(ahead.version, '', 'nothing active before the first activation');
    const at = clock.now() + 1500;
    const s = await editor.schedule({ at });
    assert.equal(s.active, '');
    assert.notEqual(s.staged, '');
    const [a, b] = await Promise.all([nextChange(ahead), nextChange(behind)]);
    const trueA = trueNow();
    for (const c of [a, b]) {
      assert.equal(c.version, s.staged);
      assert.equal(c.late, false);
      assert.equal(c.bootstrap, false);
      assert.equal(c.scheduledAt, at);
    }
    // Both swapped at the instant by the farm clock: their own clocks are 20 minutes apart.
    assert.ok(Math.abs(a.activatedAt - b.activatedAt) < 50, `activated ${a.activatedAt} and ${b.activatedAt}`);
    assert.ok(trueA >= at - 50, 'not before the instant');
    for (const ds of [ahead, behind]) {
      assert.equal(ds.size, 100);
      assert.equal(ds.getString('sku-7'), 'v1');
    }
    await eventually(async () => {
      const st = await editor.status();
      const v = st.versions.find((x) => x.version === s.staged)!;
      assert.equal(v.activated, 2);
      assert.equal(v.late, 0);
    });
  });

  it('a change of 1 key in 100 moves only that key; a new server bootstraps from the active version', async () => {
    const editor = new DataSetEditor(admin, 'rates');
    await editor.import(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'x'.repeat(100)]));
    const ds = await server('rates', 0);
    await editor.schedule({ at: clock.now() + 1000 });
    await nextChange(ds);
    const full = ds.lastRetrieval!;
    await editor.set('k5', 'changed');
    const s = await editor.schedule({ at: clock.now() + 1000 });
    const c = await nextChange(ds);
    assert.equal(c.version, s.staged);
    const diff = ds.lastRetrieval!;
    assert.equal(diff.base, c.previous);
    assert.ok(diff.bytes * 20 < full.bytes, `change-only ${diff.bytes} B vs full ${full.bytes} B`);
    assert.equal(ds.getString('k5'), 'changed');
    assert.equal(ds.getString('k6'), 'x'.repeat(100));
    const late = await server('rates', 5000);
    assert.equal(late.version, s.staged);
    assert.equal(late.getString('k5'), 'changed');
  });

  it('a server still staging when the hub rolls the cycle activates at once and reports late', async () => {
    const editor = new DataSetEditor(admin, 'slow');
    await editor.import(Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v1'.padEnd(60, '.')]));
    await editor.schedule({ at: clock.now() + 200 });
    const prompt = await server('slow', 0);
    await eventually(() => assert.notEqual(prompt.version, ''));
    // The slow server's replies can be held back in the kernel: its socket stops being read.
    let socket: Socket | undefined;
    const c = await connect(hub.url, {
      pingTimeoutMs: 60_000,
      transport: (a) => (socket = tcpTransport(a) as Socket),
    });
    clients.push(c);
    const slow = await DataSet.open(c, 'slow', { pageBytes: 100 });
    sets.push(slow);
    assert.equal(slow.version, prompt.version);
    await editor.import(Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v2'.padEnd(60, '.')]));
    let held = false;
    slow.on('retrieving', () => {
      if (held) return;
      held = true;
      socket!.pause();
    });
    const lateChange = nextChange(slow);
    const at = clock.now() + 500;
    const s = await editor.schedule({ at });
    await nextChange(prompt);
    // The hub has rolled the cycle (and pushed the new table) while the slow server's pages waited.
    await eventually(async () => assert.equal((await editor.status()).active, s.staged));
    assert.ok(held, 'the slow server had started staging');
    socket!.resume();
    const ch = await lateChange;
    assert.equal(ch.version, s.staged);
    assert.equal(ch.late, true);
    assert.equal(ch.scheduledAt, at);
    assert.equal(slow.getString('k39')?.slice(0, 2), 'v2');
    await eventually(async () => {
      const v = (await editor.status()).versions.find((x) => x.version === s.staged)!;
      assert.equal(v.activated, 2);
      assert.equal(v.late, 1);
    });
  });

  it('readers hammering get across the swap never see a mix of versions', async () => {
    const editor = new DataSetEditor(admin, 'mix');
    const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
    const ds = await server('mix', -TEN_MINUTES);
    let observed = 0;
    let mixes = 0;
    const seen: string[] = [];
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        // One read of every key per turn of the event loop: a swap between turns is fine, within one is a mix.
        const first = ds.getString(keys[0]!);
        for (const k of keys) if (ds.getString(k) !== first) mixes++;
        if (seen.at(-1) !== first) seen.push(first ?? '');
        observed++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (const gen of ['g1', 'g2', 'g3']) {
      await editor.import(keys.map((k) => [k, gen]));
      await editor.schedule({ at: clock.now() + 700 });
      await nextChange(ds);
    }
    await eventually(() => assert.equal(seen.at(-1), 'g3'));
    stop = true;
    await reader;
    assert.equal(mixes, 0);
    assert.deepEqual(seen.filter((g) => g !== ''), ['g1', 'g2', 'g3']);
    assert.ok(observed > 10);
  });

  it('rollback withdraws a staged version: servers keep the active one, production returns to it', async () => {
    const editor = new DataSetEditor(admin, 'promo');
    await editor.set('banner', 'spring');
    await editor.schedule({ at: clock.now() + 800 });
    const ds = await server('promo', 0);
    if (ds.getString('banner') !== 'spring') await nextChange(ds);
    const active = ds.version;
    await editor.set('banner', 'oops');
    const s = await editor.schedule({ at: clock.now() + 5000 });
    await eventually(() => assert.equal(ds.pending?.version, s.staged));
    const r = await editor.rollback(s.staged);
    assert.equal(r.rolledBack, s.staged);
    assert.equal(r.staged, active);
    await eventually(() => assert.equal(ds.pending, undefined));
    assert.equal((await editor.read('banner', 'production')).value?.toString(), 'spring');
    await assert.rejects(editor.rollback(), { code: 'VERSION_ACTIVE' });
    await assert.rejects(editor.rollback(active), { code: 'VERSION_ACTIVE' });
    assert.equal(ds.getString('banner'), 'spring');
  });

  it('recurring interval: production changes are staged at each roll and activate one interval later, each cycle once', async () => {
    const editor = new DataSetEditor(admin, 'cycle');
    await editor.set('n', '0');
    const ds = await server('cycle', TEN_MINUTES);
    const first = await editor.schedule({ at: clock.now() + 600, intervalMs: 600 });
    await nextChange(ds);
    assert.equal(ds.version, first.staged);
    await editor.set('n', '1');
    // Staged at the next roll, active at the one after.
    await eventually(() => assert.equal(ds.getString('n'), '1'));
    const st = await editor.status();
    const cycles = st.history.map((h) => h.cycle);
    assert.deepEqual(cycles, [...cycles].sort((x, y) => x - y));
    assert.equal(new Set(cycles).size, cycles.length, 'no cycle rolled twice');
    await editor.schedule({ intervalMs: 0 });
  });

  it('bad input: clear errors, nothing changed, the hub and other clients carry on', async () => {
    const editor = new DataSetEditor(admin, 'guarded');
    await assert.rejects(editor.status(), { code: 'UNKNOWN_DATA_SET' });
    await assert.rejects(new DataSetEditor(admin, 'nonesuch').schedule({ at: clock.now() + 10_000 }), { code: 'UNKNOWN_DATA_SET' });
    await editor.set('a', '1');
    await assert.rejects(editor.set('big', Buffer.alloc(256 * 1024 + 1)), { code: 'VALUE_TOO_LARGE' });
    await assert.rejects(editor.set('', 'x'), { code: 'INVALID_KEY' });
    await assert.rejects(editor.set('k'.repeat(1025), 'x'), { code: 'INVALID_KEY' });
    await assert.rejects(editor.schedule({ at: clock.now() - 1000 }), { code: 'SCHEDULE_IN_PAST' });
    await assert.rejects(editor.schedule({ at: clock.now() + 5000, intervalMs: 5 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(editor.rollback(), { code: 'VERSION_ACTIVE' });
    const st = await editor.status();
    assert.equal(st.productionKeys, 1);
    assert.equal(st.staged, '');
    assert.equal(st.activationAt, null);
    assert.equal((await editor.read('big', 'production')).found, false);
  });
});
