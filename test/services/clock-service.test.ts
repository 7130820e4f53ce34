import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { ClockFrame, encodeTimeRequest, FARM_CLOCK } from '../../src/services/clock/clock-frames.js';
import { FarmClock } from '../../src/services/clock/farm-clock.js';
import { clusterFixture, ownerOf, serviceClusterSuite, serviceStandaloneSuite, startCluster, urlOf, type ServiceUnderTest } from '../support/service-test-kit.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

const clockUnderTest: ServiceUnderTest = {
  name: 'clock',
  kind: 'clock',
  async request(client, resource) {
    await client.service('clock').request(ClockFrame.TIME_REQUEST, resource, encodeTimeRequest(Date.now()));
  },
  storedCount: (data) => (data === null ? 0 : (JSON.parse(data) as { served: number }).served),
};

serviceStandaloneSuite(clockUnderTest);
serviceClusterSuite(clockUnderTest);

const TEN_MINUTES = 10 * 60_000;
const trueNow = (): number => performance.timeOrigin + performance.now();

/** Farm time (the store's clock, here this machine's) read through a client whose own clock is off by `skew`. */
async function assertWithinBound(client: Client, skew: number): Promise<void> {
  const clock = await FarmClock.start(client, { clock: () => trueNow() + skew });
  try {
    // Bracketed by the true clock, so a pause of this process between the readings only widens the bracket;
    // Date.now() reads whole ms, hence the 1 ms.
    const before = Date.now();
    const t = clock.read();
    const after = Date.now();
    assert.ok(t.now >= before - t.errorBound - 1 && t.now <= after + 1 + t.errorBound,
      `farm time ${t.now} outside [${before}, ${after + 1}] ± bound ${t.errorBound}`);
    // The local clock is off by `skew`; the offset undoes it (up to this process's own timeOrigin error, a few ms).
    assert.ok(Math.abs(t.offset + skew) < 50, `offset ${t.offset} for skew ${skew}`);
    assert.ok(t.errorBound < 50, `error bound ${t.errorBound} ms`);
  } finally {
    clock.close();
  }
}

describe('farm clock: skewed clients', () => {
  let hub: HubProcess | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await hub?.stop();
  });

  for (const skew of [TEN_MINUTES, -TEN_MINUTES]) {
    it(`a client ${skew > 0 ? '10 minutes ahead' : '10 minutes behind'} reads hub time within the error bound (standalone)`, async () => {
      hub = await startHub();
      const client = await connect(hub.url);
      clients.push(client);
      await assertWithinBound(client, skew);
    });
  }
});

describe('farm clock: skewed clients on a cluster', () => {
  const fx = clusterFixture();

  it('through a non-owning hub, and after the owning hub is killed', async () => {
    const hubs = await startCluster(fx);
    const boot = await fx.connect(hubs);
    await clockUnderTest.request(boot, FARM_CLOCK);
    const { hub: owner } = await ownerOf(fx.stores.metadata, hubs, FARM_CLOCK);
    const others = hubs.filter((h) => h !== owner);
    const client = await connect(urlOf(others));
    fx.clients.push(client);
    await assertWithinBound(client, TEN_MINUTES);
    await assertWithinBound(client, -TEN_MINUTES);
    await owner.kill('SIGKILL');
    fx.hubs.splice(fx.hubs.indexOf(owner), 1);
    await assertWithinBound(client, TEN_MINUTES);
    await assertWithinBound(client, -TEN_MINUTES);
  });
});
