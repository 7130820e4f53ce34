import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { publishStream } from '../support/publish-stream.js';
import { TestCluster } from '../support/test-cluster.js';

/**
 * A hub that hangs (SIGSTOP: its sockets stay open, its lease lapses) is the
 * failure clients cannot see from the network. With the default lease and
 * the client's default settings, a publisher and a subscriber must move to
 * the new owner on their own, with nothing failed, lost or doubled.
 */
describe('cluster: a hung owner', () => {
  let cluster: TestCluster;
  before(async () => { cluster = await TestCluster.start(); });
  afterEach(() => cluster.reset());
  after(() => cluster.stop());

  it('SIGSTOP of the owner under a publish stream: every publish is acknowledged once, the subscriber sees all in order', async (t) => {
    await cluster.startHubs(3);
    const pubClient = await cluster.client();
    const subClient = await cluster.client();
    const sub = await subClient.subscribe('hung', 'audit', { from: 'earliest' });
    const received: Array<{ seq: number; payload: string }> = [];
    const consuming = (async () => {
      for await (const m of sub) {
        received.push({ seq: m.seq, payload: m.payload.toString() });
        m.ack();
      }
    })();
    const total = 4000;
    const stream = publishStream(pubClient, 'hung', total);
    await eventually(() => assert.ok(stream.acked.size >= 500), 30_000);
    const victim = await cluster.ownerOf('hung');
    assert.ok(victim, 'the topic has an owner');
    const stoppedAt = Date.now();
    process.kill(victim.pid, 'SIGSTOP');
    // Past the client's request timeout (30 s): a publisher stuck on the hung hub fails here.
    await stream.done;
    const firstAck = stream.ackTimes.find((x) => x > stoppedAt);
    t.diagnostic(`first acknowledged publish ${firstAck === undefined ? 'never' : `${firstAck - stoppedAt} ms`} after SIGSTOP of the owner (default lease)`);
    assert.deepEqual(stream.failures.map((e) => e.code), [], 'no publish failed');
    const seqs = [...stream.acked.keys()].sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1), 'one seq per publish, no gap, no duplicate');
    assert.equal(new Set(stream.acked.values()).size, total, 'each payload stored once');
    await eventually(() => assert.equal(received.length, total), 30_000);
    assert.deepEqual(received.map((r) => r.seq), seqs, 'the subscriber saw every message once, in order');
    for (const r of received) assert.equal(r.payload, stream.acked.get(r.seq));
    await sub.close();
    await consuming;
  });
});
