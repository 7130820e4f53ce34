import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { DeliverFrame, Frame, PublishAckFrame } from '../../src/protocol/frames.js';
import { removeDir, startHub } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isAck = (f: Frame): f is PublishAckFrame => f.type === FrameType.PUBLISH_ACK;
const isDeliver = (f: Frame): f is DeliverFrame => f.type === FrameType.DELIVER;

for (const durability of ['fsync', 'process'] as const) {
  describe(`crash with durability ${durability}`, () => {
    it('delivers every acknowledged message, in order, after SIGKILL and restart', async () => {
      const hub = await startHub({ args: ['--durability', durability] });
      const sub = await RawConnection.hello(hub.port);
      sub.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'crash', subscription: 'd', start: { kind: 'earliest' }, credit: 10 });
      await sub.waitFor((f) => f.type === FrameType.SUBSCRIBED);
      sub.close();

      // Publish with a window of 300 in flight until well past the kill.
      const pub = await RawConnection.hello(hub.port);
      let sent = 0;
      const pump = (): void => {
        const acked = pub.frames.length;
        while (!pub.closed && sent - acked < 300 && sent < 200_000) {
          sent++;
          pub.send({ type: FrameType.PUBLISH, corr: sent, topic: 'crash', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from(`msg-${sent}`) });
        }
      };
      const timer = setInterval(pump, 1);
      await pub.waitForCount(isAck, 3000, 60_000);
      await hub.kill('SIGKILL');
      clearInterval(timer);
      await pub.waitClosed();
      const acked = pub.frames.filter(isAck);
      assert.ok(acked.length >= 3000);

      const again = await startHub({ dataDir: hub.dataDir, args: ['--durability', durability] });
      try {
        const maxAcked = Math.max(...acked.map((a) => a.seq));
        const c = await RawConnection.hello(again.port);
        c.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'crash', subscription: 'd', start: { kind: 'earliest' }, credit: 1_000_000 });
        const got = (await c.waitForCount((f) => isDeliver(f) && f.seq >= maxAcked, 1, 60_000), c.frames.filter(isDeliver));
        assert.deepEqual(got.map((d) => d.seq), Array.from({ length: got.length }, (_, i) => i + 1), 'contiguous seqs from 1, in order');
        const payloadOf = new Map(got.map((d) => [d.seq, d.payload.toString()]));
        for (const a of acked) assert.equal(payloadOf.get(a.seq), `msg-${a.corr}`, `acknowledged seq ${a.seq} lost or changed`);
        c.close();
      } finally {
        await again.stop();
        removeDir(hub.dataDir);
      }
    });
  });
}
