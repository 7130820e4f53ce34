import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { ownerKey } from '../../src/hub/cluster-ownership.js';
import { hubKey } from '../../src/hub/hub-record.js';
import { resourceStateKey } from '../../src/hub/resource-state.js';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import { openPostgresStores } from '../../src/store/postgres/open-postgres-stores.js';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.js';
import type { Stores } from '../../src/store/stores.js';
import { startPostgres, type PostgresServer } from './embedded-postgres.js';
import { eventually } from './eventually.js';
import { startHub, type HubProcess } from './hub-process.js';

/**
 * What the kit needs to know of a service: one resource, a request the
 * service counts in that resource's stored state, and how to read the count
 * back from the state's data. Every service's tests run the same suite.
 */
export interface ServiceUnderTest {
  name: string;
  /** Each test uses a fresh resource `<kind>|kit-<n>`. */
  kind: string;
  request(client: Client, resource: string): Promise<void>;
  storedCount(data: string | null): number;
  /** Where the value storedCount reads is kept, when not in the resource state's data. */
  storedData?(metadata: MetadataStore, resource: string): Promise<string | null>;
}

export const LEASE_MS = 1000;
let resources = 0;

export function urlOf(hubs: readonly HubProcess[]): string {
  return `corral://${hubs.map((h) => `127.0.0.1:${h.port}`).join(',')}`;
}

export async function hubIdOf(hub: HubProcess): Promise<string> {
  return ((await (await fetch(`${hub.httpUrl}/healthz`)).json()) as { hubId: string }).hubId;
}

/** The stored state of a resource: the epoch of the owner that wrote it last, and its data. */
export async function storedState(metadata: MetadataStore, resource: string): Promise<{ epoch: number; data: string | null } | undefined> {
  const e = await metadata.get(resourceStateKey(resource));
  return e ? (JSON.parse(e.value) as { epoch: number; data: string | null }) : undefined;
}

/** The value a service's storedCount reads: its own, or the resource state's data. */
async function dataOf(s: ServiceUnderTest, metadata: MetadataStore, resource: string): Promise<string | null> {
  if (s.storedData) return s.storedData(metadata, resource);
  return (await storedState(metadata, resource))?.data ?? null;
}

/** The live hub the owner record of `resource` names, with the record's epoch. */
export async function ownerOf(metadata: MetadataStore, hubs: readonly HubProcess[], resource: string): Promise<{ hub: HubProcess; epoch: number }> {
  let found: { hub: HubProcess; epoch: number } | undefined;
  await eventually(async () => {
    const e = await metadata.get(ownerKey(resource));
    assert.ok(e, `owner record of ${resource}`);
    const rec = JSON.parse(e.value) as { hubId: string; epoch: number };
    for (const h of hubs) if ((await hubIdOf(h)) === rec.hubId) found = { hub: h, epoch: rec.epoch };
    assert.ok(found, `a live hub owns ${resource}`);
  });
  return found!;
}

/** A 3-hub cluster on one embedded PostgreSQL, plus a store handle for reading what the hubs wrote. */
export interface ClusterFixture {
  pg: PostgresServer;
  stores: Stores;
  hubs: HubProcess[];
  clients: Client[];
  connect(hubs: readonly HubProcess[]): Promise<Client>;
}

export function clusterFixture(): ClusterFixture {
  const fx = { hubs: [], clients: [] } as unknown as ClusterFixture;
  before(async () => {
    fx.pg = await startPostgres();
    fx.stores = await openPostgresStores({ url: fx.pg.url, durability: 'fsync', logConnections: 1, metadataConnections: 1 });
    fx.connect = async (hubs) => {
      const c = await connect(urlOf(hubs));
      fx.clients.push(c);
      return c;
    };
  });
  afterEach(async () => {
    for (const c of fx.clients.splice(0)) await c.close();
    for (const h of fx.hubs.splice(0)) {
      process.kill(h.pid, 'SIGCONT');
      await h.stop();
    }
  });
  after(async () => {
    await fx.stores.close();
    await fx.pg.stop();
  });
  return fx;
}

export async function startCluster(fx: ClusterFixture, n = 3, args: string[] = []): Promise<HubProcess[]> {
  const hubs = await Promise.all(Array.from({ length: n }, () => startHub({ args: ['--store', fx.pg.url, '--lease', String(LEASE_MS), ...args] })));
  fx.hubs.push(...hubs);
  return hubs;
}

/**
 * The cluster behaviour every service must show, on real hub processes over
 * embedded PostgreSQL: redirect from a non-owner, takeover after SIGKILL with
 * its stored state intact, graceful handoff with no request lost or answered
 * twice, and a stale owner resumed after SIGSTOP fenced out of the state.
 */
export function serviceClusterSuite(s: ServiceUnderTest): void {
  describe(`${s.name} service on a 3-hub cluster`, () => {
    const fx = clusterFixture();
    let resource = '';
    beforeEach(() => { resource = `${s.kind}|kit-${++resources}`; });
    const count = async (): Promise<number> => s.storedCount(await dataOf(s, fx.stores.metadata, resource));

    it('answers through a hub that does not own the resource (redirected to the owner)', async () => {
      const hubs = await startCluster(fx);
      await s.request(await fx.connect(hubs), resource);
      const { hub: owner } = await ownerOf(fx.stores.metadata, hubs, resource);
      const other = hubs.find((h) => h !== owner)!;
      const client = await fx.connect([other]);
      await s.request(client, resource);
      const ownerId = await hubIdOf(owner);
      assert.ok(client.hubs().some((h) => h.hubId === ownerId && h.features.includes(s.name)), 'the client followed the redirect to the owner');
      await eventually(async () => assert.equal(await count(), 2));
    });

    it('owner SIGKILLed: another hub takes the resource over with its stored state intact', async () => {
      const hubs = await startCluster(fx);
      const client = await fx.connect(hubs);
      for (let i = 0; i < 5; i++) await s.request(client, resource);
      await eventually(async () => assert.equal(await count(), 5));
      const { hub: owner, epoch } = await ownerOf(fx.stores.metadata, hubs, resource);
      await owner.kill('SIGKILL');
      fx.hubs.splice(fx.hubs.indexOf(owner), 1);
      await s.request(client, resource);
      const next = await ownerOf(fx.stores.metadata, fx.hubs, resource);
      assert.ok(next.epoch > epoch, `epoch ${next.epoch} above ${epoch}`);
      await eventually(async () => assert.equal(await count(), 6));
      assert.equal((await storedState(fx.stores.metadata, resource))!.epoch, next.epoch);
    });

    it('graceful handoff (SIGTERM of the owner): no request lost or answered twice', async () => {
      const hubs = await startCluster(fx);
      const client = await fx.connect(hubs);
      await s.request(client, resource);
      const { hub: owner } = await ownerOf(fx.stores.metadata, hubs, resource);
      let answered = 1;
      let failed = 0;
      let stop = false;
      const load = (async () => {
        while (!stop) await s.request(client, resource).then(() => { answered++; }, () => { failed++; });
      })();
      await eventually(() => assert.ok(answered >= 20));
      await owner.stop();
      fx.hubs.splice(fx.hubs.indexOf(owner), 1);
      const atStop = answered;
      await eventually(() => assert.ok(answered >= atStop + 20), 30_000);
      stop = true;
      await load;
      assert.equal(failed, 0);
      // The old owner wrote its count before the record moved; the new one counts on from it.
      await eventually(async () => assert.equal(await count(), answered));
    });

    it('a hub that joins takes resources over by rebalancing, with their stored state', async () => {
      const args = ['--rebalance-interval', '300'];
      const first = await startCluster(fx, 2, args);
      const client = await fx.connect(first);
      const level = Array.from({ length: 30 }, () => `${s.kind}|kit-${++resources}`);
      for (const r of level) await s.request(client, r);
      const [joined] = await startCluster(fx, 1, args);
      const joinedId = await hubIdOf(joined!);
      const ownedByJoined = async (): Promise<number> => {
        let n = 0;
        for (const r of level) {
          const e = await fx.stores.metadata.get(ownerKey(r));
          if (e && (JSON.parse(e.value) as { hubId: string }).hubId === joinedId) n++;
        }
        return n;
      };
      // As with topics, the joined hub takes over until the others are back
      // near the mean of 10 (src/hub/rebalancer.ts).
      await eventually(async () => {
        const n = await ownedByJoined();
        assert.ok(n >= 7, `the joined hub owns ${n} of 30 resources`);
      }, 30_000);
      // Each moved with its state: one more request each, and every count is 2.
      for (const r of level) await s.request(client, r);
      await eventually(async () => {
        for (const r of level) assert.equal(s.storedCount(await dataOf(s, fx.stores.metadata, r)), 2, r);
      });
    });

    it('stale owner resumed after SIGSTOP is fenced: it writes nothing to the state', async () => {
      const hubs = await startCluster(fx);
      const client = await fx.connect(hubs);
      for (let i = 0; i < 3; i++) await s.request(client, resource);
      await eventually(async () => assert.equal(await count(), 3));
      const stale = await ownerOf(fx.stores.metadata, hubs, resource);
      // Answered by the owner just before it stops: left unwritten, it will try to write them on resuming.
      const direct = await fx.connect([stale.hub]);
      for (let i = 0; i < 5; i++) await s.request(direct, resource);
      const staleId = await hubIdOf(stale.hub);
      process.kill(stale.hub.pid, 'SIGSTOP');
      const others = fx.hubs.filter((h) => h !== stale.hub);
      // Once its lease lapsed, the resource goes to a live hub.
      await eventually(async () => assert.equal(await fx.stores.metadata.get(hubKey(staleId)), undefined));
      const elsewhere = await fx.connect(others);
      await s.request(elsewhere, resource);
      const fresh = await ownerOf(fx.stores.metadata, others, resource);
      assert.ok(fresh.epoch > stale.epoch);
      process.kill(stale.hub.pid, 'SIGCONT');
      await eventually(() => assert.match(stale.hub.stderr(), /lease lost/));
      await eventually(() => assert.match(stale.hub.stderr(), /service resource lost/));
      for (let i = 0; i < 2; i++) await s.request(elsewhere, resource);
      await eventually(async () => {
        const st = (await storedState(fx.stores.metadata, resource))!;
        assert.equal(st.epoch, fresh.epoch);
        const stored = await count();
        assert.ok(stored >= 3 + 3 && stored <= 3 + 5 + 3, `count ${stored}`);
      });
      // Past a few flush intervals the state is still the new owner's.
      const before = await count();
      await s.request(elsewhere, resource);
      await eventually(async () => assert.equal(await count(), before + 1));
      assert.equal((await storedState(fx.stores.metadata, resource))!.epoch, fresh.epoch);
    });
  });
}

/**
 * The same on a standalone hub: served, then SIGKILLed and restarted on its
 * data directory, the resource comes back under a higher epoch with its
 * stored state intact.
 */
export function serviceStandaloneSuite(s: ServiceUnderTest): void {
  describe(`${s.name} service on a standalone hub`, () => {
    let hub: HubProcess | undefined;
    let stores: Stores | undefined;
    const clients: Client[] = [];
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
      await stores?.close();
      stores = undefined;
      await hub?.stop();
      hub = undefined;
    });

    it('serves, and after SIGKILL and restart keeps the stored state under a higher epoch', async () => {
      const resource = `${s.kind}|kit-${++resources}`;
      hub = await startHub();
      const dataDir = hub.dataDir;
      const port = hub.port;
      const client = await connect(hub.url, { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
      clients.push(client);
      for (let i = 0; i < 4; i++) await s.request(client, resource);
      stores = await openSqliteStores({ path: join(dataDir, 'corral.db'), durability: 'process' });
      const metadata = stores.metadata;
      await eventually(async () => assert.equal(s.storedCount(await dataOf(s, metadata, resource)), 4));
      const epoch = (await storedState(metadata, resource))!.epoch;
      await hub.kill('SIGKILL');
      hub = await startHub({ dataDir, port });
      await s.request(client, resource);
      await eventually(async () => {
        const st = (await storedState(metadata, resource))!;
        assert.ok(st.epoch > epoch, `epoch ${st.epoch} above ${epoch}`);
        assert.equal(s.storedCount(await dataOf(s, metadata, resource)), 5);
      });
    });
  });
}
