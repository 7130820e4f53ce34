import assert from 'node:assert/strict';
import { readlinkSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runHub } from '../../src/cli/run-hub.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame, PublishAckFrame } from '../../src/protocol/frames.js';
import type { Durability } from '../../src/store/stores.js';
import { tempDir } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

/**
 * What a durability mode promises, observed rather than inferred from a
 * kill -9 (which cannot tell "on disk" from "in the page cache"): the hub
 * runs in this process, the journal's fdatasync calls are recorded as they
 * complete, and so is every acknowledgement the client receives, on one
 * timeline.
 */
const events: string[] = [];
let dataDir = '';
const isJournal = (fd: number): boolean => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).startsWith(join(dataDir, 'journal'));
  } catch {
    return false;
  }
};

describe('journal durability, observed', () => {
  let proto: { datasync(this: FileHandle): Promise<void> };
  let real: (this: FileHandle) => Promise<void>;
  before(async () => {
    const probe = await open(join(tempDir(), 'probe'), 'w');
    proto = Object.getPrototypeOf(probe) as typeof proto;
    await probe.close();
    real = proto.datasync;
    proto.datasync = async function datasync(this: FileHandle): Promise<void> {
      const journal = isJournal(this.fd);
      await real.call(this);
      if (journal) events.push('fdatasync');
    };
  });
  after(() => { proto.datasync = real; });

  for (const durability of ['fsync', 'process'] as const satisfies readonly Durability[]) {
    it(`durability ${durability}: ${durability === 'fsync' ? 'every acknowledgement follows an fdatasync of the journal made after its publish' : 'acknowledges without waiting for the disk'}`, async () => {
      events.length = 0;
      dataDir = tempDir();
      const hub = await runHub({
        dataDir, store: undefined, host: '127.0.0.1', port: 0, httpHost: '127.0.0.1', httpPort: 0, advertise: undefined,
        leaseMs: 10_000, rebalanceMs: 0, access: undefined, durability, logLevel: 'silent',
      });
      const c = await RawConnection.hello(Number(new URL(hub.url.replace('corral:', 'http:')).port));
      c.keep = (f: Frame) => {
        if (f.type === FrameType.PUBLISH_ACK) events.push(`ack ${(f as PublishAckFrame).corr}`);
        return true;
      };
      let corr = 0;
      for (let burst = 0; burst < 10; burst++) {
        for (let i = 0; i < 20; i++) {
          corr++;
          events.push(`send ${corr}`);
          c.send({ type: FrameType.PUBLISH, corr, topic: `durable.${i % 3}`, key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from(`m${corr}`) });
        }
        await c.waitForCount((f) => f.type === FrameType.PUBLISH_ACK, corr);
      }
      c.close();
      await hub.shutdown();
      rmSync(dataDir, { recursive: true, force: true });

      const syncs = events.flatMap((e, i) => (e === 'fdatasync' ? [i] : []));
      if (durability === 'process') {
        assert.deepEqual(syncs, [], 'process mode never waits for the disk');
        return;
      }
      assert.ok(syncs.length > 0);
      for (let k = 1; k <= corr; k++) {
        const sent = events.indexOf(`send ${k}`);
        const acked = events.indexOf(`ack ${k}`);
        assert.ok(acked > sent, `publish ${k} acknowledged`);
        assert.ok(syncs.some((s) => s > sent && s < acked), `publish ${k} was acknowledged with no fdatasync of the journal between its send and its acknowledgement`);
      }
    });
  }
});
