import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FrameType } from '../../src/protocol/frame-type.js';
import { Duplicate, type DeliverFrame, type Frame, type PublishAckFrame, type SubscribedFrame } from '../../src/protocol/frames.js';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isAck = (f: Frame): f is PublishAckFrame => f.type === FrameType.PUBLISH_ACK;
const isDeliver = (f: Frame): f is DeliverFrame => f.type === FrameType.DELIVER;
const isSubscribed = (f: Frame): f is SubscribedFrame => f.type === FrameType.SUBSCRIBED;

function publish(c: RawConnection, topic: string, corr: number, payload: string, producer?: { id: string; seq: number }): void {
  c.send({ type: FrameType.PUBLISH, corr, topic, key: undefined, producerId: producer?.id, producerSeq: producer?.seq ?? 0, payload: Buffer.from(payload) });
}

function subscribe(c: RawConnection, topic: string, subscription: string, subId: number, credit = 100_000, from: 'earliest' | 'latest' = 'earliest'): void {
  c.send({ type: FrameType.SUBSCRIBE, corr: 1000 + subId, subId, topic, subscription, start: { kind: from }, credit });
}

describe('hub topics: order, acks, redelivery, GC, de-dup', () => {
  let hub: HubProcess;
  before(async () => { hub = await startHub({ args: ['--gc-interval', '100'] }); });
  after(async () => { await hub.stop(); });

  it('keeps per-topic order under concurrent publishers, and each publisher sees its own order', async () => {
    const sub = await RawConnection.hello(hub.port);
    subscribe(sub, 'orders', 's', 1);
    await sub.waitFor(isSubscribed);
    const pubs = await Promise.all([1, 2, 3, 4].map(() => RawConnection.hello(hub.port)));
    const perPublisher = 500;
    pubs.forEach((p, i) => { for (let n = 1; n <= perPublisher; n++) publish(p, 'orders', n, `${i}:${n}`); });
    const acks = await Promise.all(pubs.map((p) => p.waitForCount(isAck, perPublisher)));
    for (const a of acks) {
      const seqs = (a as PublishAckFrame[]).map((f) => f.seq);
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'acks of one publisher come in increasing seq');
    }
    const got = (await sub.waitForCount(isDeliver, 4 * perPublisher)) as DeliverFrame[];
    assert.deepEqual(got.map((d) => d.seq), Array.from({ length: 4 * perPublisher }, (_, i) => i + 1));
    const last = new Map<string, number>();
    for (const d of got) {
      const [p, n] = d.payload.toString().split(':') as [string, string];
      assert.ok(Number(n) > (last.get(p) ?? 0), `publisher ${p} out of order`);
      last.set(p, Number(n));
    }
    for (const c of [sub, ...pubs]) c.close();
  });

  it('acks are cumulative and a reattached subscription resumes after the ack (redelivery)', async () => {
    const pub = await RawConnection.hello(hub.port);
    const a = await RawConnection.hello(hub.port);
    subscribe(a, 'redeliver', 'r', 7);
    await a.waitFor(isSubscribed);
    for (let n = 1; n <= 20; n++) publish(pub, 'redeliver', n, `m${n}`);
    await a.waitForCount(isDeliver, 20);
    a.send({ type: FrameType.ACK, subId: 7, seq: 12 });
    a.close();
    const b = await RawConnection.hello(hub.port);
    subscribe(b, 'redeliver', 'r', 1);
    const subscribed = await b.waitFor(isSubscribed);
    assert.equal(subscribed.ackedSeq, 12);
    const again = (await b.waitForCount(isDeliver, 8)) as DeliverFrame[];
    assert.deepEqual(again.map((d) => d.seq), [13, 14, 15, 16, 17, 18, 19, 20]);
    assert.equal(again[0]!.payload.toString(), 'm13');
    pub.close();
    b.close();
  });

  it('trims only what every subscription acknowledged', async () => {
    const c = await RawConnection.hello(hub.port);
    subscribe(c, 'gc', 'fast', 1);
    subscribe(c, 'gc', 'slow', 2);
    await c.waitForCount(isSubscribed, 2);
    for (let n = 1; n <= 50; n++) publish(c, 'gc', n, `g${n}`);
    await c.waitForCount(isAck, 50);
    await c.waitForCount(isDeliver, 100);
    c.send({ type: FrameType.ACK, subId: 1, seq: 50 });
    c.send({ type: FrameType.ACK, subId: 2, seq: 20 });
    const stored = async (): Promise<{ firstSeq: number; stored: number }> => {
      const res = await fetch(`${hub.httpUrl}/api/topics`);
      const body = (await res.json()) as { topics: Array<{ topic: string; firstSeq: number; stored: number }> };
      return body.topics.find((t) => t.topic === 'gc')!;
    };
    await eventually(async () => {
      const s = await stored();
      assert.equal(s.firstSeq, 21);
      assert.equal(s.stored, 30);
    });
    c.send({ type: FrameType.ACK, subId: 2, seq: 50 });
    await eventually(async () => assert.equal((await stored()).stored, 0));
    c.close();
  });

  it('de-duplicates a retried publish by producer id and sequence', async () => {
    const c = await RawConnection.hello(hub.port);
    // A subscription keeps the originals from garbage collection, so each retry is answered with its original's seq.
    subscribe(c, 'dedup', 'keep', 1);
    await c.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    publish(c, 'dedup', 1, 'once', { id: 'p1', seq: 1 });
    publish(c, 'dedup', 2, 'twice', { id: 'p1', seq: 2 });
    publish(c, 'dedup', 3, 'twice', { id: 'p1', seq: 2 });
    publish(c, 'dedup', 4, 'once', { id: 'p1', seq: 1 });
    const acks = (await c.waitForCount(isAck, 4)) as PublishAckFrame[];
    const byCorr = new Map(acks.map((a) => [a.corr, a]));
    assert.deepEqual([1, 2, 3, 4].map((k) => [byCorr.get(k)!.seq, byCorr.get(k)!.duplicate]), [[1, Duplicate.NO], [2, Duplicate.NO], [2, Duplicate.YES], [1, Duplicate.YES]]);
    c.close();
  });

  it('keeps retained messages by count for topics without subscriptions', async () => {
    const c = await RawConnection.hello(hub.port);
    c.send({ type: FrameType.CONFIGURE_TOPIC, corr: 9, topic: 'retained', retainCount: 5, retainMs: 0 });
    await c.waitFor((f) => f.type === FrameType.OK);
    for (let n = 1; n <= 20; n++) publish(c, 'retained', n, `k${n}`);
    await c.waitForCount(isAck, 20);
    await eventually(async () => {
      const body = (await (await fetch(`${hub.httpUrl}/api/topics`)).json()) as { topics: Array<{ topic: string; firstSeq: number }> };
      assert.equal(body.topics.find((t) => t.topic === 'retained')!.firstSeq, 16);
    });
    subscribe(c, 'retained', 'late', 3);
    const got = (await c.waitForCount(isDeliver, 5)) as DeliverFrame[];
    assert.deepEqual(got.map((d) => d.seq), [16, 17, 18, 19, 20]);
    c.close();
  });

  it('serves 1,000 topics at once', async () => {
    const c = await RawConnection.hello(hub.port);
    const n = 1000;
    for (let i = 0; i < n; i++) subscribe(c, `many.${i}`, 's', i + 1);
    await c.waitForCount(isSubscribed, n);
    for (let i = 0; i < n; i++) publish(c, `many.${i}`, i + 1, `t${i}`);
    const acks = (await c.waitForCount(isAck, n)) as PublishAckFrame[];
    assert.ok(acks.every((a) => a.seq === 1));
    const got = (await c.waitForCount(isDeliver, n)) as DeliverFrame[];
    assert.deepEqual(new Set(got.map((d) => d.payload.toString())).size, n);
    for (const d of got) assert.equal(d.payload.toString(), `t${d.subId - 1}`);
    c.close();
  });
});
