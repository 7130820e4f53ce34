import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '../../src/client/index.js';
import { Counters } from '../../src/services/counters/counters.js';
import { counterResource } from '../../src/services/counters/counters-frames.js';
import { eventually } from '../support/eventually.js';
import { clusterFixture, ownerOf, startCluster, urlOf } from '../support/service-test-kit.js';

describe('tree counters on a 3-hub cluster', () => {
  const fx = clusterFixture();

  it('the root hub SIGKILLed: another hub takes the partition with its children\'s totals intact, and members converge on the exact sum', async () => {
    const hubs = await startCluster(fx);
    const partition = 'ads';
    // Each member enters through a different hub; requests are redirected to the root.
    const members = await Promise.all(hubs.map(async (h, i) => {
      const client = await connect(urlOf([h, ...hubs.filter((x) => x !== h)]), { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
      fx.clients.push(client);
      return Counters.join(client, { memberId: `server-${i}`, partition, syncIntervalMs: 3_600_000 });
    }));
    members.forEach((m, i) => m.increment('ad-1', BigInt(10 * (i + 1))));
    for (const m of members) await m.sync();
    const { hub: root, epoch } = await ownerOf(fx.stores.metadata, hubs, counterResource(partition));
    await root.kill('SIGKILL');
    fx.hubs.splice(fx.hubs.indexOf(root), 1);

    // A fresh member through a surviving hub reads what the dead root acknowledged, before anyone resends.
    const observerClient = await fx.connect(fx.hubs);
    const observer = await Counters.join(observerClient, { memberId: 'observer', partition, syncIntervalMs: 3_600_000 });
    await observer.subscribe('ad-1');
    assert.equal(observer.value('ad-1'), 60n);
    const next = await ownerOf(fx.stores.metadata, fx.hubs, counterResource(partition));
    assert.ok(next.epoch > epoch);

    // Members whose connection went with the root carry on through the others; increments keep counting once.
    members.forEach((m) => m.increment('ad-1', 1n));
    for (const m of members) await eventually(() => m.sync());
    await observer.sync();
    for (const m of members) await m.sync();
    for (const m of [...members, observer]) assert.equal(m.value('ad-1'), 63n);
  });
});
