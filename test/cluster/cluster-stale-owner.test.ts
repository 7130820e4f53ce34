import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Client } from '../../src/client/index.js';
import type { Frame } from '../../src/protocol/frames.js';
import { openPostgresStores } from '../../src/store/postgres/open-postgres-stores.js';
import type { Stores } from '../../src/store/stores.js';
import { eventually } from '../support/eventually.js';
import type { HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';
import { TestCluster } from '../support/test-cluster.js';

const LEASE = ['--lease', '1000'];

function answers(corr: number): (f: Frame) => boolean {
  return (f) => 'corr' in f && f.corr === corr && (f.type === FrameType.SUBSCRIBED || f.type === FrameType.ERROR || f.type === FrameType.REDIRECT);
}

/**
 * A hub paused past its lease (SIGSTOP), whose topics another hub took, is
 * resumed with requests already waiting in its socket: it reads and acts on
 * them before it learns that its lease lapsed. Whatever it does then must not
 * reach the store: not a subscription the new owner does not know, not a
 * cursor of one the new owner deleted.
 */
describe('cluster: a stale owner resumed after SIGSTOP writes nothing', () => {
  let cluster: TestCluster;
  let store: Stores;
  before(async () => {
    cluster = await TestCluster.start();
    store = await openPostgresStores({ url: cluster.pg.url, durability: 'fsync' });
  });
  afterEach(() => cluster.reset());
  after(async () => {
    await store.close();
    await cluster.stop();
  });

  /** Pauses the owner of `topic`, runs `meanwhile` while another hub takes the topic over, then resumes it. */
  async function pauseOwner(topic: string, beforePause: (owner: HubProcess) => Promise<void>, meanwhile: (fresh: Client) => Promise<void>): Promise<HubProcess> {
    const owner = await cluster.ownerOf(topic);
    assert.ok(owner, `an owner for ${topic}`);
    await beforePause(owner);
    process.kill(owner.pid, 'SIGSTOP');
    const others = cluster.hubs.filter((h) => h !== owner);
    const fresh = await cluster.client({}, others);
    // Acknowledged by another hub: the topic moved while the owner is paused.
    await fresh.publish(topic, 'while paused');
    assert.ok(await cluster.ownerOf(topic, others), 'a hub that was not paused owns the topic');
    await meanwhile(fresh);
    process.kill(owner.pid, 'SIGCONT');
    return owner;
  }

  it('does not create a subscription it was asked for while paused', { timeout: 120_000 }, async () => {
    await cluster.startHubs(3, LEASE);
    const client = await cluster.client();
    await client.publish('stale.create', 'one');
    let raw: RawConnection | undefined;
    await pauseOwner('stale.create', async (owner) => {
      raw = await RawConnection.hello(owner.port);
      // Loaded on the owner before the pause, as a busy topic would be.
      raw.send({ type: FrameType.SUBSCRIBE, corr: 1, topic: 'stale.create', subscription: 'known', subId: 1, start: { kind: 'earliest' }, credit: 10 });
      await raw.waitFor(answers(1));
    }, async () => {
      raw!.send({ type: FrameType.SUBSCRIBE, corr: 2, topic: 'stale.create', subscription: 'ghost', subId: 2, start: { kind: 'earliest' }, credit: 10 });
    });
    const answer = await raw!.waitFor(answers(2), 30_000);
    assert.notEqual(answer.type, FrameType.SUBSCRIBED, 'the stale owner must not confirm a subscription');
    assert.equal(await store.metadata.get('sub|stale.create|ghost'), undefined, 'no subscription written by the stale owner');
    raw!.close();
  });

  it('does not bring back, nor move the cursor of, a subscription the new owner deleted', { timeout: 120_000 }, async () => {
    await cluster.startHubs(3, LEASE);
    const client = await cluster.client();
    // Kept for the subscription created below (without a subscription or retention they are garbage at once).
    await client.configureTopic('stale.cursor', { retainCount: 100, retainMs: 0 });
    for (let i = 1; i <= 10; i++) await client.publish('stale.cursor', `m${i}`);
    let raw: RawConnection | undefined;
    const owner = await pauseOwner('stale.cursor', async (o) => {
      raw = await RawConnection.hello(o.port);
      raw.send({ type: FrameType.SUBSCRIBE, corr: 1, topic: 'stale.cursor', subscription: 'audit', subId: 1, start: { kind: 'earliest' }, credit: 100 });
      await raw.waitForCount((f) => f.type === FrameType.DELIVER, 10);
      assert.equal((await store.metadata.get('sub|stale.cursor|audit'))?.value.includes('"ackedSeq":0'), true);
    }, async (fresh) => {
      // Waits in the paused hub's socket; read first thing when it resumes.
      raw!.send({ type: FrameType.ACK, subId: 1, seq: 10 });
      // Through a client that never used the paused hub: no request of it waits there.
      await fresh.unsubscribe('stale.cursor', 'audit');
      assert.equal(await store.metadata.get('sub|stale.cursor|audit'), undefined);
    });
    // The resumed hub read the ACK, learns its lease lapsed and ends the attachment.
    await raw!.waitFor((f) => f.type === FrameType.ERROR && 'subId' in f && f.subId === 1, 30_000);
    await eventually(() => assert.match(owner.stderr(), /lease lost/), 30_000);
    // A graceful stop flushes every cursor still to be written: once it exited, all were tried.
    await owner.stop();
    assert.equal(await store.metadata.get('sub|stale.cursor|audit'), undefined, 'the deleted subscription stays deleted');
    raw!.close();
  });
});
