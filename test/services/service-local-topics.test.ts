import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { connect, type Client } from '../../src/client/index.js';
import { systemClock } from '../../src/hub/clock.js';
import type { HubContext, HubService, LocalSubscription, ServiceConnection, ServiceRequest } from '../../src/hub/hub-service.js';
import { Hub } from '../../src/hub/hub.js';
import { StandaloneOwnership } from '../../src/hub/ownership.js';
import { listenTcp } from '../../src/hub/tcp-listener.js';
import type { ServiceMessage } from '../../src/protocol/service-envelope.js';
import { encodeServiceMessage } from '../../src/protocol/service-envelope.js';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.js';
import type { Stores } from '../../src/store/stores.js';
import { eventually } from '../support/eventually.js';
import { removeDir, tempDir } from '../support/hub-process.js';

const WATCH = 0xf0;
const WATCHING = 0xf1;
const SEEN = 0xf2;

/**
 * A service of the experimental range that relays a topic: WATCH attaches a
 * durable subscription of the resource's topic (LocalTopics.subscribe), and
 * each message is pushed unasked to the watching connection, then published
 * upper-cased to `<topic>.upper` (LocalTopics.publish) before it is acknowledged.
 */
class RelayService implements HubService {
  readonly name = 'experimental';
  readonly kinds = ['relay'];
  private ctx!: HubContext;
  private readonly subscriptions: LocalSubscription[] = [];

  start(ctx: HubContext): Promise<void> {
    this.ctx = ctx;
    return Promise.resolve();
  }

  async handle(req: ServiceRequest): Promise<void> {
    if (req.message.type !== WATCH) throw new Error('unexpected frame');
    const topic = req.owned.resource.slice('relay|'.length);
    const to: ServiceConnection = req.from;
    const sub = await this.ctx.topics.subscribe(topic, 'relay', async (m) => {
      to.send(encodeServiceMessage({ type: SEEN, corr: 0, resource: req.owned.resource, payload: m.payload }));
      await this.ctx.topics.publish(`${topic}.upper`, Buffer.from(m.payload.toString().toUpperCase()));
    });
    this.subscriptions.push(sub);
    req.reply(WATCHING, Buffer.alloc(0));
  }

  gained(): Promise<void> { return Promise.resolve(); }
  handingOff(): Promise<void> { return Promise.resolve(); }
  lost(): void {}
  load(): number { return 1; }

  unwatch(): void {
    for (const s of this.subscriptions.splice(0)) s.close();
  }

  stop(): Promise<void> {
    this.unwatch();
    return Promise.resolve();
  }
}

describe('services consume and publish topics inside the hub, and push frames to clients', () => {
  const dir = tempDir();
  const relay = new RelayService();
  let stores: Stores;
  let hub: Hub;
  let tcp: Server;
  let client: Client;

  before(async () => {
    stores = openSqliteStores({ path: join(dir, 'corral.db'), durability: 'fsync' });
    hub = new Hub({
      hubId: 'hub-relay', stores, ownership: await StandaloneOwnership.start(stores.metadata),
      logger: pino({ level: 'silent' }), clock: systemClock, access: undefined, durability: 'fsync', services: [relay],
    });
    await hub.start();
    tcp = await listenTcp(hub, '127.0.0.1', 0);
    const { port } = tcp.address() as { port: number };
    client = await connect(`corral://127.0.0.1:${port}`);
  });

  after(async () => {
    await client.close();
    tcp.close();
    await hub.stop();
    await stores.close();
    removeDir(dir);
  });

  it('pushes each message in order, publishes what it derives, and resumes from its durable cursor', async () => {
    const channel = client.service('experimental');
    const pushed: string[] = [];
    channel.on('push', (m: ServiceMessage) => {
      assert.equal(m.type, SEEN);
      assert.equal(m.resource, 'relay|orders');
      pushed.push(m.payload.toString());
    });
    // The derived topic's reader subscribes first: a topic without subscriptions keeps nothing [P-6.3].
    const upper = await client.subscribe('orders.upper', 'audit', { from: 'earliest' });
    const derived: string[] = [];
    const reading = (async () => {
      for await (const m of upper) {
        derived.push(m.payload.toString());
        m.ack();
      }
    })();
    // The topic exists before the service watches it; the subscription starts at its end.
    await client.publish('orders', 'before');
    await channel.request(WATCH, 'relay|orders', Buffer.alloc(0));
    for (let i = 0; i < 50; i++) await client.publish('orders', `o${i}`);
    const first = Array.from({ length: 50 }, (_, i) => `o${i}`);
    await eventually(() => assert.deepEqual(pushed, first));
    await eventually(() => assert.deepEqual(derived, first.map((s) => s.toUpperCase())));

    // Closed, then watched again: the durable subscription goes on after the last acknowledged message.
    relay.unwatch();
    for (let i = 50; i < 60; i++) await client.publish('orders', `o${i}`);
    await channel.request(WATCH, 'relay|orders', Buffer.alloc(0));
    const all = Array.from({ length: 60 }, (_, i) => `o${i}`);
    await eventually(() => assert.deepEqual(pushed, all));
    await eventually(() => assert.deepEqual(derived, all.map((s) => s.toUpperCase())));
    await upper.close();
    await reading;
  });
});
