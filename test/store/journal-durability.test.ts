import assert from 'node:assert/strict';
import { readlinkSync, rmSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runHub } from '../../src/cli/run-hub.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame, PublishAckFrame } from '../../src/protocol/frames.js';
import { withJournal } from '../../src/store/journal/with-journal.js';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.js';
import type { Durability } from '../../src/store/stores.js';
import { tempDir } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';
import { wrapAppends } from '../support/wrap-appends.js';

/**
 * What a durability mode promises, observed rather than inferred from a
 * kill -9 (which cannot tell "on disk" from "in the page cache"): the hub
 * runs in this process, the fdatasync calls of the journal and of the
 * store's WAL are recorded as they complete, and so is every
 * acknowledgement the client receives and every journal segment deleted, on
 * one timeline.
 */
const events: string[] = [];
let dataDir = '';
/** What an fdatasync made durable: the journal, the store behind it, or neither. */
const syncedFile = (fd: number): 'journal' | 'wal' | undefined => {
  try {
    const path = readlinkSync(`/proc/self/fd/${fd}`);
    if (path.startsWith(join(dataDir, 'journal'))) return 'journal';
    return path === join(dataDir, 'corral.db-wal') ? 'wal' : undefined;
  } catch {
    return undefined;
  }
};

describe('journal durability, observed', () => {
  let proto: { datasync(this: FileHandle): Promise<void> };
  let real: (this: FileHandle) => Promise<void>;
  // Builtin modules' exports are patched through their CommonJS side, then
  // synced into the ESM bindings the journal imported.
  const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof FsPromises;
  const realUnlink = fsp.unlink;
  before(async () => {
    const probe = await open(join(tempDir(), 'probe'), 'w');
    proto = Object.getPrototypeOf(probe) as typeof proto;
    await probe.close();
    real = proto.datasync;
    proto.datasync = async function datasync(this: FileHandle): Promise<void> {
      const file = syncedFile(this.fd);
      await real.call(this);
      if (file) events.push(`fdatasync ${file}`);
    };
    fsp.unlink = async (path) => {
      events.push(`unlink ${basename(String(path))}`);
      await realUnlink(path);
    };
    syncBuiltinESMExports();
  });
  after(() => {
    proto.datasync = real;
    fsp.unlink = realUnlink;
    syncBuiltinESMExports();
  });

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

      const syncs = events.flatMap((e, i) => (e === 'fdatasync journal' ? [i] : []));
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

  it('durability fsync: a journal segment is deleted only after an fdatasync of the store behind that follows every write of its records there', async () => {
    events.length = 0;
    dataDir = tempDir();
    const sqlite = openSqliteStores({ path: join(dataDir, 'corral.db'), durability: 'fsync' });
    // The writes behind, which do not wait for the disk themselves.
    const log = wrapAppends(sqlite.log, async (batches, real) => {
      const stored = await real(batches);
      events.push('write behind');
      return stored;
    });
    const stores = await withJournal({ ...sqlite, log }, { dir: join(dataDir, 'journal'), durability: 'fsync', segmentBytes: 4096, flushIntervalMs: 1 });
    await stores.log.claim('t', 1);
    for (let seq = 1; seq <= 60; seq++) {
      await stores.log.append([{ topic: 't', epoch: 1, records: [{ seq, timestamp: seq, key: undefined, payload: Buffer.alloc(500, seq), producerId: undefined, producerSeq: 0 }] }]);
    }
    await stores.close();
    rmSync(dataDir, { recursive: true, force: true });

    const deletions = events.flatMap((e, i) => (e.startsWith('unlink segment-') ? [i] : []));
    assert.ok(deletions.length >= 5, `segments deleted: ${deletions.length}`);
    for (const d of deletions) {
      const lastWrite = events.lastIndexOf('write behind', d);
      assert.ok(lastWrite >= 0, 'the store behind was written before the journal let go');
      const synced = events.slice(lastWrite, d).includes('fdatasync wal');
      assert.ok(synced, `${events[d]} with no fdatasync of the store's WAL since the last write behind (${events.slice(Math.max(0, lastWrite - 2), d + 1).join(', ')})`);
    }
  });
});
