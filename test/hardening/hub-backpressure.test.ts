import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/client/index.js';
import { encodeFrame } from '../../src/protocol/encode.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { DeliverFrame, Frame, PublishAckFrame } from '../../src/protocol/frames.js';
import { eventually } from '../support/eventually.js';
import { flood } from '../support/flood.js';
import { hubMetric as metric } from '../support/hub-metric.js';
import { removeDir, startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

/** The hub's default bound on replies queued to a connection before it stops reading from it [P-1.7]. */
const REPLY_BOUND = 64 * 1024;
const STALL_MS = 10_000;
const isAck = (f: Frame): f is PublishAckFrame => f.type === FrameType.PUBLISH_ACK;
const isDeliver = (f: Frame): f is DeliverFrame => f.type === FrameType.DELIVER;

function publish(corr: number, topic: string, payload: Buffer): Frame {
  return { type: FrameType.PUBLISH, corr, topic, key: undefined, producerId: undefined, producerSeq: 0, payload };
}

describe('hub: backpressure on replies, and the stall timeout [P-1.7]', () => {
  let hub: HubProcess;
  before(async () => { hub = await startHub({ args: ['--durability', 'process', '--stall-timeout', `${STALL_MS}ms`] }); });
  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('a client that sends PINGs and never reads is paused one reply past the bound, others are served, and it is closed with SLOW_READER after the stall timeout', { timeout: 120_000 }, async () => {
    const slowReaders = await metric(hub, 'corral_errors_total', 'code="SLOW_READER"');
    const pinger = await RawConnection.hello(hub.port);
    const started = performance.now();
    const pongBytes = encodeFrame({ type: FrameType.PONG, id: 7 }).length;
    flood(pinger, { type: FrameType.PING, id: 7 });
    // Once the kernel's buffers are full, PONGs queue in the hub until reading stops.
    await eventually(async () => {
      assert.equal(await metric(hub, 'corral_connections_reading_paused'), 1);
      assert.ok(await metric(hub, 'corral_outbound_bytes_largest') > REPLY_BOUND / 2);
    }, 60_000);
    // While it stays paused, nothing more is read from it, so its queue does not grow.
    const reader = await RawConnection.hello(hub.port);
    const client = await connect(hub.url, { connectTimeoutMs: 10_000 });
    try {
      for (let i = 0; i < 3; i++) {
        const queued = await metric(hub, 'corral_outbound_bytes_largest');
        assert.ok(queued <= REPLY_BOUND + pongBytes, `${queued} bytes queued to the pinger; the bound is ${REPLY_BOUND} + one PONG of ${pongBytes}`);
        await reader.roundTrip();
        assert.equal((await client.publish('beside.pinger', `m${i}`)).seq, i + 1);
      }
      assert.equal(pinger.closed, false, 'not closed before the stall timeout');
    } finally {
      await client.close();
      reader.close();
    }
    await eventually(async () => assert.equal(await metric(hub, 'corral_errors_total', 'code="SLOW_READER"'), slowReaders + 1), 60_000);
    await pinger.waitClosed(30_000);
    assert.ok(performance.now() - started >= STALL_MS, 'closed no earlier than the stall timeout');
  });

  it('a client that stops reading for less than the stall timeout is only paused: it then gets every reply, in order', { timeout: 120_000 }, async () => {
    const pinger = await RawConnection.hello(hub.port);
    let next = 0;
    let outOfOrder = 0;
    pinger.keep = (f) => {
      if (f.type !== FrameType.PONG || !('id' in f)) return true;
      if (f.id !== next) outOfOrder++;
      next = f.id + 1;
      return false;
    };
    let sent = 0;
    flood(pinger, (i) => {
      sent = i + 1;
      return { type: FrameType.PING, id: i };
    });
    await eventually(async () => assert.equal(await metric(hub, 'corral_connections_reading_paused'), 1), 60_000);
    pinger.socket.removeAllListeners('drain');
    pinger.socket.resume();
    await eventually(() => assert.equal(next, sent), 60_000);
    assert.equal(outOfOrder, 0);
    // Still served: the hub reads from it again.
    pinger.send({ type: FrameType.PING, id: sent });
    await eventually(() => assert.equal(next, sent + 1));
    assert.equal(pinger.closed, false);
    pinger.close();
  });

  it('a client pipelining 10,000 publishes is never cut off and gets every acknowledgement, in order', { timeout: 120_000 }, async () => {
    const slowReaders = await metric(hub, 'corral_errors_total', 'code="SLOW_READER"');
    const c = await RawConnection.hello(hub.port);
    const n = 10_000;
    const payload = Buffer.from('x');
    // One write: the hub reads them in large chunks, and one commit's acknowledgements (far more than the bound) queue in one turn.
    c.sendBytes(Buffer.concat(Array.from({ length: n }, (_, i) => encodeFrame(publish(i + 1, 'pipelined', payload)))));
    const acks = (await c.waitForCount(isAck, n, 60_000)).filter(isAck);
    assert.deepEqual(acks.map((a) => a.corr), Array.from({ length: n }, (_, i) => i + 1));
    assert.deepEqual(acks.map((a) => a.seq), Array.from({ length: n }, (_, i) => i + 1));
    assert.equal(c.closed, false);
    assert.equal(await metric(hub, 'corral_errors_total', 'code="SLOW_READER"'), slowReaders);
    c.close();
  });
});

describe('hub: the outbound budget holds deliveries to stalled subscribers', () => {
  const budget = 1024 * 1024;
  let hub: HubProcess;
  before(async () => { hub = await startHub({ args: ['--durability', 'process', '--outbound-budget', String(budget)] }); });
  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('a subscriber that stops reading holds no more than the budget, while another subscriber receives everything; it gets every message once it reads', { timeout: 180_000 }, async () => {
    const n = 3_000;
    const payload = Buffer.alloc(8 * 1024, 1); // 24 MiB in all: more than the kernel's buffers and the hub's 4 MiB per connection
    const deliverBytes = encodeFrame({ type: FrameType.DELIVER, subId: 1, seq: n, timestamp: Date.now(), key: undefined, payload }).length;
    const subscribe = async (name: string): Promise<RawConnection> => {
      const s = await RawConnection.hello(hub.port);
      s.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'budget', subscription: name, start: { kind: 'latest' }, credit: 1_000_000 });
      await s.waitFor((f) => f.type === FrameType.SUBSCRIBED);
      return s;
    };
    const seqsOf = (s: RawConnection): { seqs: () => number[] } => {
      const seqs: number[] = [];
      s.keep = (f) => {
        if (isDeliver(f)) seqs.push(f.seq);
        return !isDeliver(f);
      };
      return { seqs: () => seqs };
    };
    const stalled = await subscribe('stalled');
    const stalledGot = seqsOf(stalled);
    stalled.socket.pause();
    const reader = await subscribe('reader');
    const readerGot = seqsOf(reader);
    const publisher = await RawConnection.hello(hub.port);
    const expected = Array.from({ length: n }, (_, i) => i + 1);
    for (let sent = 0; sent < n;) {
      const batch = Math.min(200, n - sent);
      publisher.sendBytes(Buffer.concat(Array.from({ length: batch }, (_, i) => encodeFrame(publish(sent + i + 1, 'budget', payload)))));
      sent += batch;
      await publisher.waitForCount(isAck, sent, 60_000);
    }
    await eventually(() => assert.deepEqual(readerGot.seqs(), expected), 60_000);
    await eventually(async () => assert.equal(await metric(hub, 'corral_connections_deliveries_held'), 1), 60_000);
    const held = await metric(hub, 'corral_outbound_bytes_largest');
    // Deliveries stop once the total passes the budget: the last one may cross it.
    assert.ok(held <= budget + deliverBytes, `${held} bytes queued to the stalled subscriber; the budget is ${budget}`);
    assert.ok(stalledGot.seqs().length === 0);
    stalled.socket.resume();
    await eventually(() => assert.deepEqual(stalledGot.seqs(), expected), 60_000);
    for (const c of [stalled, reader, publisher]) c.close();
  });
});
