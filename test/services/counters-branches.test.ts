import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { isCorralError } from '../../src/protocol/corral-error.js';
import type { ErrorCode } from '../../src/protocol/error-codes.js';
import { Counters } from '../../src/services/counters/counters.js';
import { counterResource, CountersFrame, encodeSet, encodeSync, type TreeView } from '../../src/services/counters/counters-frames.js';
import { runCli } from '../support/run-cli.js';
import { MemberProcess } from '../support/counters-member.js';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { clusterFixture, ownerOf, startCluster, urlOf } from '../support/service-test-kit.js';

/** Manual exchanges only: the test says when a member syncs. */
const MANUAL = 3_600_000;
const RECONNECT = { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } };
let partitions = 0;

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => isCorralError(err, code) || assert.fail(`expected ${code}, got ${String(err)}`));
}

describe('tree counters with branches on a standalone hub', () => {
  let hub: HubProcess;
  /** Its branches exchange with their parent only when urgent: what reaches another branch is urgent propagation, not the interval's. */
  let urgentOnly: HubProcess;
  const clients: Client[] = [];
  const members: MemberProcess[] = [];
  let on: HubProcess;
  const join = async (memberId: string, partition: string, branch: string | undefined, syncIntervalMs = MANUAL): Promise<Counters> => {
    const client = await connect(on.url, RECONNECT);
    clients.push(client);
    return Counters.join(client, { memberId, partition, branch, syncIntervalMs });
  };
  before(async () => {
    [hub, urgentOnly] = await Promise.all([startHub({ args: ['--counters-branch-interval', '50'] }), startHub({ args: ['--counters-branch-interval', String(MANUAL)] })]);
  });
  beforeEach(() => { on = hub; });
  afterEach(async () => {
    for (const m of members.splice(0)) await m.kill();
    for (const c of clients.splice(0)) await c.close();
  });
  after(async () => { await Promise.all([hub.stop(), urgentOnly.stop()]); });

  it('an urgent change near a watched threshold goes up through its branch to the root and down through the other branch at once', async () => {
    on = urgentOnly;
    const partition = `u${++partitions}`;
    const a = await join('a', partition, 'rack-1');
    const b = await join('b', partition, 'rack-2');
    const root = await join('r', partition, undefined);
    for (const m of [a, b, root]) await m.subscribe('ad');
    let fired = 0n;
    b.watch('ad', 1n, (v) => { fired = v; });
    a.watch('ad', 10n, () => undefined, { earlySyncWithin: 10n });
    a.increment('ad');
    // Nobody syncs on an interval here: only the urgent push can carry it.
    await eventually(() => {
      assert.equal(b.value('ad'), 1n);
      assert.equal(root.value('ad'), 1n);
    });
    assert.equal(fired, 1n);
  });

  it('a member moved to another branch (left, or killed and restarted there) counts from zero there; nothing counts twice or is lost', async () => {
    const partition = `m${++partitions}`;
    const observer = await join('observer', partition, undefined);
    // A process killed after delivering 5 to rack-1 (and 2 not delivered), restarted under the same id in rack-2.
    const p1 = await MemberProcess.start(hub.url, 'mover', partition, 'rack-1');
    members.push(p1);
    await p1.increment('hits', 5n);
    assert.ok(await p1.sync());
    await p1.increment('hits', 2n);
    await p1.kill();
    const p2 = await MemberProcess.start(hub.url, 'mover', partition, 'rack-2');
    members.push(p2);
    await p2.increment('hits', 3n);
    assert.ok(await p2.sync());
    // A member that leaves rack-1 cleanly and joins rack-2: rack-1 adopts its 10.
    const leaver = await join('leaver', partition, 'rack-1');
    leaver.increment('hits', 10n);
    await leaver.close();
    const back = await join('leaver', partition, 'rack-2');
    back.increment('hits', 1n);
    await back.sync();
    await observer.subscribe('hits');
    await eventually(async () => {
      await observer.sync();
      await back.sync();
      assert.ok(await p2.sync());
      assert.equal(observer.value('hits'), 5n + 3n + 10n + 1n);
      assert.equal(back.value('hits'), 5n + 3n + 10n + 1n);
      assert.equal(await p2.value('hits'), 5n + 3n + 10n + 1n);
    });
  });

  it('corral counters shows the tree from the root down through its branches', async () => {
    const partition = `t${++partitions}`;
    const [a, b, r] = [await join('web-a', partition, 'eu'), await join('web-b', partition, 'eu/rack-1'), await join('web-r', partition, undefined)];
    a.increment('ad', 2n);
    b.increment('ad', 5n);
    r.increment('ad', 1n);
    await r.subscribe('ad');
    await eventually(async () => {
      for (const m of [a, b, r]) await m.sync();
      assert.equal(r.value('ad'), 8n);
    });
    const json = await runCli(['counters', partition, '--json', '--url', hub.url]);
    assert.equal(json.code, 0, json.stderr);
    const tree = JSON.parse(json.stdout) as TreeView;
    assert.deepEqual(tree.members.map((m) => [m.memberId, m.totals.ad]).sort(), [['branch:eu', '7'], ['web-r', '1']]);
    const eu = tree.branches![0]!;
    assert.equal(eu.branch, 'eu');
    assert.equal(eu.up?.memberId, 'branch:eu');
    assert.deepEqual(eu.members.map((m) => [m.memberId, m.totals.ad]).sort(), [['branch:eu/rack-1', '5'], ['web-a', '2']]);
    assert.deepEqual(eu.branches![0]!.members.map((m) => [m.memberId, m.totals.ad]), [['web-b', '5']]);
    const table = await runCli(['counters', partition, '--url', hub.url]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ {2}branch eu: hub \S+ \(epoch \d+\), 2 members; up to counters\|t\d+ as branch:eu/m);
    assert.match(table.stdout, /^ {4}branch eu\/rack-1: .* up to counters\|t\d+\/eu as branch:eu\/rack-1/m);
    assert.match(table.stdout, /^ {4}web-b\s+1\s+yes\s+\d+\s+ad=5/m);
  });

  it('only the variables that changed cross the branch → root link', async () => {
    on = urgentOnly;
    const partition = `b${++partitions}`;
    const names = Array.from({ length: 200 }, (_, i) => `v${i}`);
    const m = await join('m', partition, 'rack-1');
    for (const n of names) m.increment(n);
    await m.sync();
    const observer = await join('observer', partition, undefined);
    await observer.subscribe(...names);
    const up = async (): Promise<{ entriesUp: number; syncs: number; bytesUp: number }> => {
      const t = await Counters.readTree(clients[0]!, partition, 'rack-1');
      return t.up!.stats;
    };
    // The branch syncs up on its interval (an hour here) or when a member's change is urgent: a watch makes it so.
    m.watch('v0', 3n, () => undefined, { earlySyncWithin: 5n });
    m.increment('v0');
    await eventually(async () => {
      await observer.sync();
      assert.equal(observer.value('v199'), 1n);
      assert.equal(observer.value('v0'), 2n);
    });
    const before = await up();
    m.increment('v7');
    m.increment('v42', 5n);
    m.increment('v42');
    await m.sync();
    m.watch('v100', 2n, () => undefined, { earlySyncWithin: 5n });
    m.increment('v100');
    await eventually(async () => {
      await observer.sync();
      assert.equal(observer.value('v100'), 2n);
    });
    const after = await up();
    assert.equal(after.entriesUp - before.entriesUp, 3, 'v7, v42 and v100 changed; nothing else goes up');
    assert.equal(observer.value('v42'), 7n);
    assert.equal(observer.value('v7'), 2n);
    // Bytes: a fixed overhead per SYNC plus 12 per entry, whatever the branch holds.
    assert.ok(after.bytesUp - before.bytesUp <= (after.syncs - before.syncs) * 60 + 3 * 12, `${after.bytesUp - before.bytesUp} bytes`);
  });

  it('bad input: an unknown member token at a branch, an invalid branch name, SET sent to a branch, a client claiming a branch id', async () => {
    const partition = `x${++partitions}`;
    const client = await connect(hub.url, RECONNECT);
    clients.push(client);
    const ch = client.service('counters');
    await rejectsWith(ch.request(CountersFrame.SYNC, counterResource(partition, 'rack-1'), encodeSync({ token: 12345, seq: 1, flags: 0, entries: [] })), 'UNKNOWN_MEMBER_TOKEN');
    for (const bad of [`counters|${partition}//rack`, `counters|${partition}/`, `counters|/rack`, `counters|${partition}/${'x'.repeat(65)}`]) {
      await rejectsWith(ch.request(CountersFrame.TREE, bad), 'INVALID_COUNTER_NAME');
    }
    await rejectsWith(ch.request(CountersFrame.SET, counterResource(partition, 'rack-1'), encodeSet('a', 1n)), 'NOT_A_ROOT');
    await rejectsWith(Counters.join(client, { memberId: 'branch:rack-1', partition, branch: 'rack-2' }), 'INVALID_COUNTER_NAME');
    assert.throws(() => counterResource(partition, 'a//b'), (err: unknown) => isCorralError(err, 'INVALID_COUNTER_NAME'));
    // The hub and the branch go on.
    const m = await Counters.join(client, { memberId: 'ok', partition, branch: 'rack-1', syncIntervalMs: MANUAL });
    m.increment('a', 4n);
    await m.setGlobal('b', 9n);
    await m.subscribe('a', 'b');
    assert.equal(m.value('a'), 4n);
    await eventually(async () => {
      await m.sync();
      assert.equal(m.value('b'), 9n);
    });
  });
});

describe('tree counters with branches on a 3-hub cluster', () => {
  const fx = clusterFixture();

  /** Clients in this process, each entering the cluster through a different hub first. */
  const joinAll = async (hubs: HubProcess[], partition: string, spec: Array<[memberId: string, branch: string | undefined]>, syncIntervalMs: number): Promise<Counters[]> =>
    Promise.all(spec.map(async ([memberId, branch], i) => {
      const first = hubs[i % hubs.length]!;
      const client = await connect(urlOf([first, ...hubs.filter((h) => h !== first)]), RECONNECT);
      fx.clients.push(client);
      return Counters.join(client, { memberId, partition, branch, syncIntervalMs });
    }));

  it('root + 2 branches, members in each incrementing concurrently: every member reads the exact sum once quiet', async () => {
    const hubs = await startCluster(fx, 3, ['--counters-branch-interval', '50']);
    const partition = 'tree';
    const spec: Array<[string, string | undefined]> = [['a1', 'rack-1'], ['a2', 'rack-1'], ['a3', 'rack-1'], ['b1', 'rack-2'], ['b2', 'rack-2'], ['b3', 'rack-2'], ['r1', undefined]];
    const ms = await joinAll(hubs, partition, spec, 30);
    const procs = await Promise.all([MemberProcess.start(urlOf(hubs), 'pa', partition, 'rack-1'), MemberProcess.start(urlOf(hubs), 'pb', partition, 'rack-2')]);
    try {
      await Promise.all(ms.map(async (m, i) => {
        for (let k = 0; k < 300; k++) {
          m.increment('hits', BigInt(i + 1));
          if (k % 20 === 0) await new Promise((r) => setTimeout(r, 1));
        }
      }));
      for (const p of procs) {
        await p.increment('hits', 1000n);
        assert.ok(await p.sync());
      }
      const expected = ms.reduce((s, _m, i) => s + 300n * BigInt(i + 1), 0n) + 2000n;
      await eventually(async () => {
        for (const p of procs) await p.sync();
        for (const m of ms) assert.equal(m.value('hits'), expected, `${m.memberId} reads ${m.value('hits')}`);
        for (const p of procs) assert.equal(await p.value('hits'), expected);
      });
      // The root sees the two branches as two members, each with its subtree's total.
      const tree = await Counters.readTree(fx.clients[0]!, partition);
      const branchTotals = tree.members.filter((m) => m.memberId.startsWith('branch:')).map((m) => [m.memberId, m.totals.hits]).sort();
      assert.deepEqual(branchTotals, [
        ['branch:rack-1', String(300n * (1n + 2n + 3n) + 1000n)],
        ['branch:rack-2', String(300n * (4n + 5n + 6n) + 1000n)],
      ]);
    } finally {
      for (const p of procs) await p.kill();
    }
  });

  it('a branch\'s owner hub SIGKILLed mid-traffic: the branch moves with its children\'s totals, continues its link up, and every member converges on the exact sum', async () => {
    const hubs = await startCluster(fx, 3, ['--counters-branch-interval', '50']);
    const partition = 'failover';
    const ms = await joinAll(hubs, partition, [['a1', 'rack-1'], ['a2', 'rack-1'], ['b1', 'rack-2'], ['b2', 'rack-2'], ['r1', undefined]], 30);
    for (const m of ms) await m.subscribe('hits');
    const { hub: victim, epoch } = await ownerOf(fx.stores.metadata, hubs, counterResource(partition, 'rack-1'));
    let running = true;
    const counts = ms.map(() => 0n);
    const traffic = Promise.all(ms.map(async (m, i) => {
      while (running) {
        m.increment('hits');
        counts[i]!++;
        await new Promise((r) => setTimeout(r, 2));
      }
    }));
    // Mid-traffic: some totals have gone up through rack-1 when its hub dies.
    await eventually(() => assert.ok(ms[4]!.value('hits') > 50n));
    await victim.kill('SIGKILL');
    fx.hubs.splice(fx.hubs.indexOf(victim), 1);
    await eventually(async () => {
      const next = await ownerOf(fx.stores.metadata, fx.hubs, counterResource(partition, 'rack-1'));
      assert.ok(next.epoch > epoch);
      assert.ok(ms[0]!.value('hits') > ms[4]!.value('hits') - 1000n);
    });
    // Traffic goes on through the new owner for a while, then stops.
    const atMove = ms[4]!.value('hits');
    await eventually(() => assert.ok(ms[4]!.value('hits') > atMove + 50n));
    running = false;
    await traffic;
    const expected = counts.reduce((s, n) => s + n, 0n);
    await eventually(async () => {
      for (const m of ms) await m.sync().catch(() => undefined);
      for (const m of ms) assert.equal(m.value('hits'), expected, `${m.memberId} reads ${m.value('hits')}, expected ${expected}`);
    });
    const tree = await Counters.readTree(fx.clients[0]!, partition, 'rack-1');
    assert.equal(tree.up?.memberId, 'branch:rack-1');
  });
});
