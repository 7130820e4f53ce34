import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { DeliverFrame, ErrorFrame, Frame, PublishAckFrame } from '../../src/protocol/frames.js';
import { removeDir, startHub } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isAck = (f: Frame): f is PublishAckFrame => f.type === FrameType.PUBLISH_ACK;

describe('graceful shutdown', () => {
  it('acknowledges what it committed, refuses the rest as retryable, says GOODBYE, and keeps every acknowledged message', async () => {
    const hub = await startHub();
    const sub = await RawConnection.hello(hub.port);
    sub.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'drain', subscription: 's', start: { kind: 'earliest' }, credit: 10 });
    await sub.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    const pub = await RawConnection.hello(hub.port);
    let corr = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 50 && !pub.closed; i++) {
        corr++;
        pub.send({ type: FrameType.PUBLISH, corr, topic: 'drain', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from(`d${corr}`) });
      }
    }, 2);
    await pub.waitForCount(isAck, 500);
    const exit = new Promise<number | null>((resolve) => hub.child.once('exit', (code) => resolve(code)));
    await hub.stop();
    clearInterval(timer);
    assert.equal(await exit, 0, 'clean exit');
    await pub.waitClosed();
    assert.ok(pub.frames.some((f) => f.type === FrameType.GOODBYE), 'GOODBYE before close');
    assert.ok(sub.frames.some((f) => f.type === FrameType.GOODBYE));
    for (const f of pub.frames.filter((x): x is ErrorFrame => x.type === FrameType.ERROR)) {
      assert.equal(f.code, ERROR_CODES.SHUTTING_DOWN.wire, 'only SHUTTING_DOWN refusals');
    }
    const acked = pub.frames.filter(isAck);
    assert.equal(new Set(acked.map((a) => a.corr)).size, acked.length, 'no publish acknowledged twice');

    const again = await startHub({ dataDir: hub.dataDir });
    try {
      const c = await RawConnection.hello(again.port);
      c.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'drain', subscription: 's', start: { kind: 'earliest' }, credit: 1_000_000 });
      const max = Math.max(...acked.map((a) => a.seq));
      await c.waitFor((f) => f.type === FrameType.DELIVER && (f as DeliverFrame).seq === max);
      const payloads = new Map(c.frames.filter((f): f is DeliverFrame => f.type === FrameType.DELIVER).map((d) => [d.seq, d.payload.toString()]));
      for (const a of acked) assert.equal(payloads.get(a.seq), `d${a.corr}`);
      c.close();
    } finally {
      await again.stop();
      removeDir(hub.dataDir);
    }
  });
});
