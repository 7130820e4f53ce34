import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { connect, isCorralError, type Client } from '../../src/client/index.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame } from '../../src/protocol/frames.js';
import { eventually } from '../support/eventually.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';
import { readPayloads } from '../support/read-payloads.js';

const LEASE_MS = 1000;

async function hubIdOf(hub: HubProcess): Promise<string> {
  return ((await (await fetch(`${hub.httpUrl}/healthz`)).json()) as { hubId: string }).hubId;
}

async function ownerHub(hubs: HubProcess[], topic: string): Promise<HubProcess> {
  let found: HubProcess | undefined;
  await eventually(async () => {
    const body = (await (await fetch(`${hubs[0]!.httpUrl}/api/topics`)).json()) as { topics: Array<{ topic: string; owner?: string }> };
    const id = body.topics.find((t) => t.topic === topic)?.owner;
    for (const h of hubs) if ((await hubIdOf(h)) === id) found = h;
    assert.ok(found, `owner of ${topic}`);
  });
  return found!;
}

/** Hub ids with a live lease, as the cluster sees them through `via`. */
async function liveHubIds(via: Client): Promise<string[]> {
  return (await via.query('hubs')).hubs.map((h) => h.hubId);
}

/** How many of the topics named `prefix…` each hub owns, by the owner records. */
async function ownedPerHub(hub: HubProcess, prefix: string): Promise<Map<string, number>> {
  const body = (await (await fetch(`${hub.httpUrl}/api/topics`)).json()) as { topics: Array<{ topic: string; owner?: string }> };
  const counts = new Map<string, number>();
  for (const t of body.topics) if (t.topic.startsWith(prefix) && t.owner) counts.set(t.owner, (counts.get(t.owner) ?? 0) + 1);
  return counts;
}

function urlOf(hubs: HubProcess[]): string {
  return `corral://${hubs.map((h) => `127.0.0.1:${h.port}`).join(',')}`;
}

/** Publishes p1, p2, … with a window in flight until stopped; records every acknowledged seq and payload. */
function steadyPublisher(client: Client, topic: string): { acked: Map<number, string>; failed: number; firstAckAfter(t: number): number | undefined; stop(): Promise<void> } {
  const acked = new Map<number, string>();
  const ackTimes: number[] = [];
  let stopped = false;
  let failed = 0;
  let n = 0;
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    while (!stopped) {
      while (inFlight.size < 50 && !stopped) {
        const payload = `p${++n}`;
        const p = client.publish(topic, payload).then((r) => {
          // Every original is kept while it is retried here: a seq not known is a defect.
          if (r.seq === undefined) {
            failed++;
            return;
          }
          acked.set(r.seq, payload);
          ackTimes.push(Date.now());
        }, async (err: unknown) => {
          failed++;
          // A test that failed closed the client: stop, rather than spin on refusals that come at once.
          if (isCorralError(err, 'CLIENT_CLOSED')) stopped = true;
          else await new Promise((r) => setTimeout(r, 10));
        }).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  })();
  return {
    acked,
    get failed() { return failed; },
    firstAckAfter: (t) => ackTimes.find((x) => x > t),
    stop: async () => { stopped = true; await loop; },
  };
}

describe('cluster failover', () => {
  let pg: PostgresServer;
  let hubs: HubProcess[] = [];
  let clients: Client[] = [];
  before(async () => { pg = await startPostgres(); });
  afterEach(async () => {
    for (const c of clients) await c.close();
    clients = [];
    for (const h of hubs) {
      process.kill(h.pid, 'SIGCONT');
      await h.stop();
    }
    hubs = [];
  });
  after(async () => { await pg.stop(); });

  it('SIGKILL of an owner under load: every acknowledged message reaches the subscriber, in order', async (t) => {
    hubs = await Promise.all([0, 1, 2].map(() => startHub({ args: ['--store', pg.url, '--lease', String(LEASE_MS)] })));
    const pubClient = await connect(urlOf(hubs));
    const subClient = await connect(urlOf(hubs));
    clients.push(pubClient, subClient);
    const sub = await subClient.subscribe('failover', 'audit', { from: 'earliest' });
    const received: Array<{ seq: number; payload: string }> = [];
    const consuming = (async () => {
      for await (const m of sub) {
        received.push({ seq: m.seq, payload: m.payload.toString() });
        m.ack();
      }
    })();
    const pub = steadyPublisher(pubClient, 'failover');
    await eventually(() => assert.ok(pub.acked.size >= 500), 30_000);
    const victim = await ownerHub(hubs, 'failover');
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    hubs = hubs.filter((h) => h !== victim);
    await eventually(() => assert.ok(pub.firstAckAfter(killedAt) !== undefined), 30_000);
    t.diagnostic(`first acknowledged publish ${pub.firstAckAfter(killedAt)! - killedAt} ms after SIGKILL`);
    const ackedBeforeStop = pub.acked.size;
    await eventually(() => assert.ok(pub.acked.size >= ackedBeforeStop + 500), 30_000);
    await pub.stop();
    const maxSeq = Math.max(...pub.acked.keys());
    await eventually(() => assert.ok(received.length > 0 && received[received.length - 1]!.seq >= maxSeq), 30_000);
    const seqs = received.map((r) => r.seq);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `order at ${i}: ${seqs[i - 1]} then ${seqs[i]}`);
    const got = new Map(received.map((r) => [r.seq, r.payload]));
    for (const [seq, payload] of pub.acked) assert.equal(got.get(seq), payload, `acknowledged seq ${seq} lost`);
    await sub.close();
    await consuming;
  });

  it('SIGSTOP past the lease: the stale owner cannot write a single message, and its clients are sent on', async () => {
    hubs = await Promise.all([0, 1, 2].map(() => startHub({ args: ['--store', pg.url, '--lease', String(LEASE_MS)] })));
    const boot = await connect(urlOf(hubs));
    clients.push(boot);
    // A subscription keeps the messages from garbage collection, so the log can be checked afterwards.
    await (await boot.subscribe('stale.topic', 'check', { from: 'earliest' })).close();
    await boot.publish('stale.topic', 'one');
    const owner = await ownerHub(hubs, 'stale.topic');
    const ownerId = await hubIdOf(owner);
    const direct = await RawConnection.hello(owner.port);
    process.kill(owner.pid, 'SIGSTOP');
    direct.send({ type: FrameType.PUBLISH, corr: 99, topic: 'stale.topic', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from('stale') });
    const others = hubs.filter((h) => h !== owner);
    const fresh = await connect(urlOf(others));
    clients.push(fresh);
    await eventually(async () => assert.ok(!(await liveHubIds(fresh)).includes(ownerId), 'the paused owner\'s lease lapsed'), 30_000);
    const r = await fresh.publish('stale.topic', 'two');
    assert.equal(r.seq, 2);
    process.kill(owner.pid, 'SIGCONT');
    const answer = await direct.waitFor((f: Frame) => (f.type === FrameType.ERROR || f.type === FrameType.REDIRECT || f.type === FrameType.PUBLISH_ACK) && 'corr' in f && f.corr === 99);
    assert.notEqual(answer.type, FrameType.PUBLISH_ACK, 'the stale owner must not acknowledge');
    direct.close();
    await fresh.publish('stale.topic', 'three');
    assert.deepEqual(await readPayloads(fresh, 'stale.topic', 'check', 3), ['one', 'two', 'three']);
  });

  it('a graceful shutdown of an owner hands its topics over without errors visible to clients', async () => {
    hubs = await Promise.all([0, 1].map(() => startHub({ args: ['--store', pg.url, '--lease', String(LEASE_MS)] })));
    const client = await connect(urlOf(hubs));
    const subClient = await connect(urlOf(hubs));
    clients.push(client, subClient);
    const sub = await subClient.subscribe('handoff', 'audit', { from: 'earliest' });
    const received: number[] = [];
    const consuming = (async () => {
      for await (const m of sub) {
        received.push(m.seq);
        m.ack();
      }
    })();
    const pub = steadyPublisher(client, 'handoff');
    await eventually(() => assert.ok(pub.acked.size >= 300), 30_000);
    const owner = await ownerHub(hubs, 'handoff');
    await owner.stop();
    hubs = hubs.filter((h) => h !== owner);
    const before = pub.acked.size;
    await eventually(() => assert.ok(pub.acked.size >= before + 300), 30_000);
    await pub.stop();
    assert.equal(pub.failed, 0, 'no publish failed');
    const seqs = [...pub.acked.keys()].sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'no seq lost or doubled');
    await eventually(() => assert.equal(received.length, seqs.length), 30_000);
    assert.deepEqual(received, seqs, 'the subscriber saw every message once, in order, across the handoff');
    await sub.close();
    await consuming;
  });

  it('a hub that joins gets new topics', async () => {
    // Placement alone: the rebalancer (tested below) would move old topics to the new hub meanwhile.
    const args = ['--store', pg.url, '--lease', String(LEASE_MS), '--rebalance-interval', '0'];
    hubs = await Promise.all([0, 1].map(() => startHub({ args })));
    const client = await connect(urlOf(hubs));
    clients.push(client);
    for (let i = 0; i < 20; i++) await client.publish(`before.${i}`, 'x');
    const joined = await startHub({ args });
    hubs.push(joined);
    const joinedId = await hubIdOf(joined);
    // Load reports refresh with each lease renewal: wait until they show the 20 topics and the new hub.
    await eventually(async () => {
      const live = (await client.query('hubs')).hubs;
      assert.ok(live.some((h) => h.hubId === joinedId), 'the new hub is live');
      assert.equal(live.reduce((n, h) => n + h.load.topics, 0), 20, 'the reports show every topic');
    }, 30_000);
    for (let i = 0; i < 20; i++) await client.publish(`after.${i}`, 'x');
    const body = (await (await fetch(`${joined.httpUrl}/api/topics`)).json()) as { topics: Array<{ topic: string; owner?: string }> };
    const mine = body.topics.filter((t) => t.topic.startsWith('after.') && t.owner === joinedId);
    assert.ok(mine.length >= 10, `the new hub owns ${mine.length} of 20 new topics`);
  });

  it('rebalances: a hub that joins takes topics over from the others, and publishers see no error', async () => {
    const args = ['--store', pg.url, '--lease', String(LEASE_MS), '--rebalance-interval', '300'];
    hubs = await Promise.all([0, 1].map(() => startHub({ args })));
    const client = await connect(urlOf(hubs));
    clients.push(client);
    for (let i = 0; i < 30; i++) await client.publish(`level.${i}`, 'x');
    const pubs = [0, 1, 2, 3].map((i) => steadyPublisher(client, `level.${i}`));
    const joined = await startHub({ args });
    hubs.push(joined);
    const joinedId = await hubIdOf(joined);
    // The joined hub takes topics over until the others are back near the mean of 10
    // (src/hub/rebalancer.ts); how many depends on how the 30 were split before it joined.
    await eventually(async () => {
      const owned = await ownedPerHub(joined, 'level.');
      const summary = [...owned.values()].join(', ');
      assert.equal([...owned.values()].reduce((a, b) => a + b, 0), 30, `every topic has an owner: ${summary}`);
      assert.ok((owned.get(joinedId) ?? 0) >= 7, `the joined hub owns ${owned.get(joinedId) ?? 0} of 30 topics: ${summary}`);
    }, 30_000);
    const counts = pubs.map((p) => p.acked.size);
    await eventually(() => assert.ok(pubs.every((p, i) => p.acked.size >= counts[i]! + 100)), 30_000);
    for (const p of pubs) await p.stop();
    for (const p of pubs) {
      assert.equal(p.failed, 0, 'no publish failed');
      const seqs = [...p.acked.keys()].sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 2), 'seqs contiguous after the first message');
    }
  });

  it('PostgreSQL restarted under load: the hubs recover and lose nothing acknowledged', async () => {
    hubs = await Promise.all([0, 1].map(() => startHub({ args: ['--store', pg.url, '--lease', String(LEASE_MS)] })));
    const client = await connect(urlOf(hubs));
    clients.push(client);
    const sub = await client.subscribe('pg.restart', 'audit', { from: 'earliest' });
    const received = new Map<number, string>();
    const consuming = (async () => {
      for await (const m of sub) {
        received.set(m.seq, m.payload.toString());
        m.ack();
      }
    })();
    const pub = steadyPublisher(client, 'pg.restart');
    await eventually(() => assert.ok(pub.acked.size >= 300), 30_000);
    await pg.stopServer();
    await new Promise((r) => setTimeout(r, 1000));
    await pg.startServer();
    const before = pub.acked.size;
    await eventually(() => assert.ok(pub.acked.size >= before + 300), 60_000);
    await pub.stop();
    const maxSeq = Math.max(...pub.acked.keys());
    await eventually(() => assert.ok(received.has(maxSeq)), 60_000);
    for (const [seq, payload] of pub.acked) assert.equal(received.get(seq), payload, `acknowledged seq ${seq} lost`);
    await sub.close();
    await consuming;
  });
});
