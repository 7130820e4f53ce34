import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { Counters } from '../../src/services/counters/counters.js';
import { CountersFrame, encodeRegister, U64_MAX } from '../../src/services/counters/counters-frames.js';
import type { TreeView } from '../../src/services/counters/counters-frames.js';
import { MemberProcess } from '../support/counters-member.js';
import { runCli } from '../support/run-cli.js';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { serviceClusterSuite, serviceStandaloneSuite, type ServiceUnderTest } from '../support/service-test-kit.js';

let registrations = 0;

/** The kit counts registrations: each request links a new member, and the stored state lists every link. */
const countersUnderTest: ServiceUnderTest = {
  name: 'counters',
  kind: 'counters',
  async request(client, resource) {
    await client.service('counters').request(CountersFrame.REGISTER, resource, encodeRegister(`kit-${++registrations}`, 0));
  },
  storedCount: (data) => (data === null ? 0 : (JSON.parse(data) as { links: unknown[] }).links.length),
};

serviceStandaloneSuite(countersUnderTest);
serviceClusterSuite(countersUnderTest);

/** Manual exchanges only: the test says when a member syncs. */
const MANUAL = 3_600_000;
let partitions = 0;

describe('tree counters on a standalone hub', () => {
  let hub: HubProcess;
  const clients: Client[] = [];
  const members: MemberProcess[] = [];
  let partition = '';
  const join = async (memberId: string, syncIntervalMs = MANUAL): Promise<Counters> => {
    const client = await connect(hub.url, { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    clients.push(client);
    return Counters.join(client, { memberId, partition, syncIntervalMs });
  };
  before(async () => { hub = await startHub(); });
  afterEach(async () => {
    for (const m of members.splice(0)) await m.kill();
    for (const c of clients.splice(0)) await c.close();
    partition = `p${++partitions}`;
  });
  after(async () => { await hub.stop(); });
  partition = `p${++partitions}`;

  it('four members incrementing concurrently all read the exact sum once quiet', async () => {
    const ms = await Promise.all(['a', 'b', 'c', 'd'].map((id) => join(id, 20)));
    let expected = 0n;
    await Promise.all(ms.map(async (m, i) => {
      for (let k = 0; k < 200; k++) {
        m.increment('hits', BigInt(i + 1));
        if (k % 50 === 0) await new Promise((r) => setImmediate(r));
      }
    }));
    for (let i = 0; i < ms.length; i++) expected += 200n * BigInt(i + 1);
    await eventually(() => { for (const m of ms) assert.equal(m.value('hits'), expected); });
    assert.equal(ms[2]!.local('hits'), 600n);
    const tree = await ms[0]!.tree();
    assert.equal(tree.variables.find((v) => v.name === 'hits')!.global, expected.toString());
    assert.deepEqual(tree.members.map((m) => m.totals.hits).sort(), ['200', '400', '600', '800']);
  });

  it('wraps around at 2^64', async () => {
    const [a, b] = [await join('a'), await join('b')];
    a.set('w', U64_MAX);
    b.increment('w', 5n);
    await a.sync();
    await b.sync();
    await a.sync();
    assert.equal(a.value('w'), 4n);
    assert.equal(b.value('w'), 4n);
  });

  it('only changed variables cross a link: 10 of 1,000 changed cost 10 entries each way', async () => {
    const [a, b] = [await join('a'), await join('b')];
    const names = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    for (const n of names) {
      a.increment(n);
      b.value(n);
    }
    await a.sync();
    await b.sync();
    assert.equal(b.value('v999'), 1n);
    const [sa, sb] = [a.stats(), b.stats()];
    for (let i = 0; i < 10; i++) a.increment(`v${i * 100}`, 3n);
    await a.sync();
    await b.sync();
    const [ta, tb] = [a.stats(), b.stats()];
    assert.equal(ta.entriesUp - sa.entriesUp, 10);
    // u32 token, u32 seq, u8 flags, u32 count, then 12 bytes per entry; plus the envelope (5 + corr 4 + resource).
    const envelope = 5 + 4 + 2 + Buffer.byteLength(a.resource);
    assert.equal(ta.bytesUp - sa.bytesUp, envelope + 13 + 10 * 12);
    assert.equal(tb.entriesDown - sb.entriesDown, 10);
    assert.equal(tb.bytesDown - sb.bytesDown, envelope + 4 + 10 * 12);
    assert.equal(b.value('v500'), 4n);
  });

  it('a member SIGKILLed and restarted: what it delivered is kept, what it did not is gone, nothing counts twice', async () => {
    const observer = await join('observer');
    const m1 = await MemberProcess.start(hub.url, 'm1', partition);
    members.push(m1);
    await m1.increment('ads', 5n);
    assert.ok(await m1.sync());
    await m1.increment('ads', 7n);
    await m1.kill();
    members.splice(members.indexOf(m1), 1);
    const again = await MemberProcess.start(hub.url, 'm1', partition);
    members.push(again);
    await again.increment('ads', 2n);
    assert.ok(await again.sync());
    // Totals are resent: a second exchange of the same totals changes nothing.
    assert.ok(await again.sync());
    await observer.subscribe('ads');
    assert.equal(observer.value('ads'), 7n);
    assert.equal(await again.value('ads'), 7n);
    const tree = await observer.tree();
    const link = tree.members.find((m) => m.memberId === 'm1')!;
    assert.equal(link.epoch, 2);
    assert.equal(link.totals.ads, '2');
    assert.equal(tree.variables.find((v) => v.name === 'ads')!.root, '5', 'the root adopted the first incarnation\'s delivered 5');
  });

  it('an incarnation superseded by a newer one is refused and stops; its delivered count stays', async () => {
    const old = await join('dup');
    old.increment('x', 4n);
    await old.sync();
    const fresh = await join('dup');
    fresh.increment('x', 1n);
    await fresh.sync();
    old.increment('x', 100n);
    await assert.rejects(old.sync(), { code: 'UNKNOWN_MEMBER_TOKEN' });
    await assert.rejects(old.sync(), { code: 'CLIENT_CLOSED' });
    await fresh.sync();
    assert.equal(fresh.value('x'), 5n);
  });

  it('a watch fires when the value crosses its threshold; near it, increments are pushed to other members at once', async () => {
    const [a, b] = [await join('a'), await join('b')];
    const seen: bigint[] = [];
    b.watch('cap', 10n, (v) => seen.push(v));
    await b.sync();
    a.watch('cap', 10n, () => undefined, { earlySyncWithin: 5n });
    await a.sync();
    a.increment('cap', 4n);
    // Far from the threshold: nothing moves until an exchange.
    await a.sync();
    await b.sync();
    assert.equal(b.value('cap'), 4n);
    a.increment('cap', 2n);
    a.increment('cap', 5n);
    // b never syncs from here: the root pushes what a sent urgently.
    await eventually(() => assert.equal(b.value('cap'), 11n));
    assert.deepEqual(seen, [11n]);
    assert.ok(b.stats().pushes >= 1);
  });

  it('setGlobal resets a variable for every member; later increments count from there', async () => {
    const [a, b] = [await join('a'), await join('b')];
    a.increment('quota', 9n);
    await a.sync();
    assert.equal(await b.setGlobal('quota', 0n), 9n);
    await eventually(() => assert.equal(a.value('quota'), 0n));
    a.increment('quota', 2n);
    await a.sync();
    await b.sync();
    assert.equal(b.value('quota'), 2n);
  });

  it('corral counters, the admin route and the metrics show the tree', async () => {
    const [a, b] = [await join('web-1'), await join('web-2')];
    a.increment('ad-7', 3n);
    b.increment('ad-7', 4n);
    await a.sync();
    await b.sync();
    const json = await runCli(['counters', partition, '--json', '--url', hub.url]);
    assert.equal(json.code, 0, json.stderr);
    const tree = JSON.parse(json.stdout) as TreeView;
    assert.deepEqual(tree.variables.map((v) => [v.name, v.global]), [['ad-7', '7']]);
    assert.deepEqual(tree.members.map((m) => [m.memberId, m.totals['ad-7']]), [['web-1', '3'], ['web-2', '4']]);
    const table = await runCli(['counters', partition, '--url', hub.url]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /ad-7\s+7\s+0/);
    assert.match(table.stdout, /web-2\s+1\s+yes\s+1\s+ad-7=4/);
    const usage = await runCli(['counters', partition, '--no-such-flag', '--url', hub.url]);
    assert.equal(usage.code, 2);
    const route = (await (await fetch(`${hub.httpUrl}/api/counters/partitions`)).json()) as { partitions: TreeView[] };
    assert.equal(route.partitions.find((p) => p.partition === partition)!.variables[0]!.global, '7');
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    assert.match(metrics, /corral_counters_syncs_total \d+/);
    assert.match(metrics, /corral_counters_entries_total\{direction="up"\} \d+/);
  });

  it('the hub SIGKILLed and restarted: every total it acknowledged is still there', async () => {
    const [a, b] = [await join('a'), await join('b')];
    a.increment('n', 3n);
    b.increment('n', 4n);
    await a.sync();
    await b.sync();
    const { dataDir, port } = hub;
    await hub.kill('SIGKILL');
    hub = await startHub({ dataDir, port });
    const observer = await join('observer');
    await observer.subscribe('n');
    assert.equal(observer.value('n'), 7n);
    a.increment('n', 1n);
    await a.sync();
    await observer.sync();
    assert.equal(observer.value('n'), 8n);
  });
});
