import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { DeliverFrame, Frame } from '../../src/protocol/frames.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isDeliver = (f: Frame): f is DeliverFrame => f.type === FrameType.DELIVER;

/** Publishes n messages of `size` bytes with a bounded window; resolves when all are acknowledged. */
async function publishMany(port: number, topic: string, n: number, size: number): Promise<void> {
  const c = await RawConnection.hello(port);
  const payload = Buffer.alloc(size, 7);
  let sent = 0;
  while (sent < n) {
    const acked = c.frames.filter((f) => f.type === FrameType.PUBLISH_ACK).length;
    while (sent < n && sent - acked < 200) {
      sent++;
      c.send({ type: FrameType.PUBLISH, corr: sent, topic, key: undefined, producerId: undefined, producerSeq: 0, payload });
    }
    await c.waitForCount((f) => f.type === FrameType.PUBLISH_ACK, Math.min(n, acked + 100), 60_000);
  }
  await c.waitForCount((f) => f.type === FrameType.PUBLISH_ACK, n, 60_000);
  c.close();
}

async function hubStats(hub: HubProcess): Promise<{ memory: { rss: number }; deliveries: number }> {
  return (await (await fetch(`${hub.httpUrl}/api/stats`)).json()) as { memory: { rss: number }; deliveries: number };
}

const MiB = 1024 * 1024;

describe('flow control', () => {
  let hub: HubProcess;
  before(async () => { hub = await startHub({ args: ['--durability', 'process'] }); });
  after(async () => { await hub.stop(); });

  it('never sends more than the granted credit', async () => {
    const c = await RawConnection.hello(hub.port);
    c.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'credit', subscription: 's', start: { kind: 'latest' }, credit: 10 });
    await c.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    // Every publish is acknowledged, so committed and offered to the subscriber.
    await publishMany(hub.port, 'credit', 500, 100);
    await c.waitForCount(isDeliver, 10);
    await c.roundTrip();
    assert.equal(c.frames.filter(isDeliver).length, 10);
    assert.equal((await hubStats(hub)).deliveries, 10, 'the hub sent no more than the credit');
    c.send({ type: FrameType.CREDIT, subId: 1, credit: 5 });
    await c.waitForCount(isDeliver, 15);
    await c.roundTrip();
    const got = c.frames.filter(isDeliver);
    assert.deepEqual(got.map((d) => d.seq), Array.from({ length: 15 }, (_, i) => i + 1));
    assert.equal((await hubStats(hub)).deliveries, 15);
    c.close();
  });

  it('keeps hub memory bounded for a subscriber that stops reading, then delivers everything in order', async (t) => {
    const n = 20_000;
    const size = 16 * 1024; // 320 MiB in all: far more than the hub may hold
    // What the hub holds anyway (code, heap, SQLite cache) after the same traffic with a reader.
    await publishMany(hub.port, 'warm-up', 2_000, size);
    const baseline = (await hubStats(hub)).memory.rss;
    const c = await RawConnection.hello(hub.port);
    c.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'slow', subscription: 's', start: { kind: 'latest' }, credit: 1_000_000 });
    await c.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    c.socket.pause();
    await publishMany(hub.port, 'slow', n, size);
    const growth = (await hubStats(hub)).memory.rss - baseline;
    t.diagnostic(`hub RSS ${Math.round(baseline / MiB)} MiB before, grew ${Math.round(growth / MiB)} MiB with ${n * size / MiB} MiB unread`);
    // Buffering what the reader does not take would grow by the whole 312 MiB; the hub may hold its
    // tail budget (64 MiB), one connection's outbound bound (4 MiB) and pending publishes (16 MiB),
    // plus what the allocator keeps: well under 192 MiB.
    assert.ok(growth < 192 * MiB, `hub RSS grew ${Math.round(growth / MiB)} MiB over ${Math.round(baseline / MiB)} MiB with ${n * size / MiB} MiB unread`);
    let next = 1;
    let outOfOrder = 0;
    let delivered = 0;
    c.keep = (f) => {
      if (!isDeliver(f)) return true;
      if (f.seq !== next) outOfOrder++;
      next = f.seq + 1;
      delivered++;
      return delivered === n;
    };
    c.socket.resume();
    await c.waitFor(isDeliver, 120_000);
    assert.equal(next - 1, n, 'every message delivered');
    assert.equal(delivered, n, 'each exactly once');
    assert.equal(outOfOrder, 0);
    c.close();
  });
});
