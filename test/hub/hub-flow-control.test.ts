import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { DeliverFrame, Frame } from '../../src/protocol/frames.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isDeliver = (f: Frame): f is DeliverFrame => f.type === FrameType.DELIVER;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

async function hubRss(hub: HubProcess): Promise<number> {
  const stats = (await (await fetch(`${hub.httpUrl}/api/stats`)).json()) as { memory: { rss: number } };
  return stats.memory.rss;
}

describe('flow control', () => {
  let hub: HubProcess;
  before(async () => { hub = await startHub({ args: ['--durability', 'process'] }); });
  after(async () => { await hub.stop(); });

  it('never sends more than the granted credit', async () => {
    const c = await RawConnection.hello(hub.port);
    c.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'credit', subscription: 's', start: { kind: 'latest' }, credit: 10 });
    await c.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    await publishMany(hub.port, 'credit', 500, 100);
    await c.waitForCount(isDeliver, 10);
    await sleep(300);
    assert.equal(c.frames.filter(isDeliver).length, 10);
    c.send({ type: FrameType.CREDIT, subId: 1, credit: 5 });
    await c.waitForCount(isDeliver, 15);
    await sleep(300);
    const got = c.frames.filter(isDeliver);
    assert.equal(got.length, 15);
    assert.deepEqual(got.map((d) => d.seq), Array.from({ length: 15 }, (_, i) => i + 1));
    c.close();
  });

  it('keeps hub memory bounded for a subscriber that stops reading, then delivers everything in order', async () => {
    const n = 20_000;
    const size = 16 * 1024; // 320 MiB in all: far more than the hub may hold
    const c = await RawConnection.hello(hub.port);
    c.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'slow', subscription: 's', start: { kind: 'latest' }, credit: 1_000_000 });
    await c.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    c.socket.pause();
    await publishMany(hub.port, 'slow', n, size);
    const rss = await hubRss(hub);
    assert.ok(rss < 250 * 1024 * 1024, `hub RSS ${Math.round(rss / 1048576)} MiB with ${n * size / 1048576} MiB unread`);
    let next = 1;
    let outOfOrder = 0;
    c.keep = (f) => {
      if (!isDeliver(f)) return true;
      if (f.seq !== next) outOfOrder++;
      next = f.seq + 1;
      return false;
    };
    c.socket.resume();
    const deadline = Date.now() + 120_000;
    while (next <= n && Date.now() < deadline && !c.closed) await sleep(50);
    assert.equal(next - 1, n, 'every message delivered');
    assert.equal(outOfOrder, 0);
    c.close();
  });
});
