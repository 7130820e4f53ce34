import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { withJournal } from '../../src/store/journal/with-journal.js';
import type { WriteBehind } from '../../src/store/journal/write-behind.js';
import type { LogRecord } from '../../src/store/message-log.js';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.js';
import { openStandaloneStores } from '../../src/store/sqlite/open-standalone-stores.js';
import { SqliteWriteBehind } from '../../src/store/sqlite/sqlite-write-behind.js';
import { removeDir, tempDir } from '../support/hub-process.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = tempDir('corral-write-behind-');
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) removeDir(dir);
});

function record(seq: number, payloadBytes: number): LogRecord {
  return { seq, timestamp: 1_700_000_000_000 + seq, key: undefined, payload: Buffer.alloc(payloadBytes, seq % 251), producerId: seq % 3 ? 'producer-a' : undefined, producerSeq: seq };
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const ALL = { maxRecords: 1e6, maxBytes: 1e9 };

describe('SQLite written behind the journal by a worker thread', () => {
  it('serves every acknowledged record while the worker writes behind, never one twice', async () => {
    const dir = freshDir();
    // A write-behind after nearly every append, so reads keep meeting records
    // on their way from the journal's memory to the worker's commits.
    const stores = await openStandaloneStores({ path: join(dir, 'corral.db'), journalDir: join(dir, 'journal'), durability: 'process', flushIntervalMs: 1, flushRecords: 5 });
    try {
      await stores.log.claim('t', 1);
      const reads: Array<{ from: number; through: number; result: Promise<LogRecord[]>; producer: Promise<Array<{ seq: number }>> }> = [];
      let seq = 0;
      for (let i = 0; i < 300; i++) {
        const n = 1 + (i % 7);
        const records = range(seq + 1, seq + n).map((s) => record(s, 16));
        assert.deepEqual(await stores.log.append([{ topic: 't', epoch: 1, records }]), [true]);
        seq += n;
        const from = 1 + ((i * 37) % seq);
        reads.push({ from, through: seq, result: stores.log.read('t', from, ALL), producer: stores.log.producerRecords('t', 'producer-a', from, seq) });
      }
      for (const r of reads) {
        assert.deepEqual((await r.result).map((x) => x.seq), range(r.from, r.through), `read from ${r.from} after seq ${r.through} was acknowledged`);
        assert.deepEqual((await r.producer).map((x) => x.seq), range(r.from, r.through).filter((s) => s % 3 !== 0), `producer records from ${r.from} through ${r.through}`);
      }
      // Everything reached SQLite, and a trim there leaves exactly the rest.
      assert.deepEqual(await stores.log.bounds('t'), { topic: 't', firstSeq: 1, lastSeq: seq, epoch: 1 });
      assert.equal(await stores.log.trim('t', 100, 1), 100);
      assert.deepEqual((await stores.log.read('t', 1, ALL)).map((x) => x.seq), range(101, seq));
    } finally {
      await stores.close();
    }
    // Reopened without the journal: SQLite alone holds everything.
    const sqlite = openSqliteStores({ path: join(dir, 'corral.db'), durability: 'process' });
    try {
      const held = await sqlite.log.read('t', 1, ALL);
      assert.equal(held.length, held.at(-1)!.seq - 100);
      assert.deepEqual(held[0]!.payload, record(101, 16).payload);
    } finally {
      await sqlite.close();
    }
  });

  it('deletes a journal segment only after a write-behind that made SQLite durable (fsync)', async () => {
    const dir = freshDir();
    const journalDir = join(dir, 'journal');
    const segments = (): string[] => readdirSync(journalDir).filter((n) => n.endsWith('.log'));
    const writes: Array<{ durable: boolean; segmentsBefore: string[] }> = [];
    const recording = (inner: WriteBehind): WriteBehind => ({
      write(spans, durable) {
        writes.push({ durable, segmentsBefore: segments() });
        return inner.write(spans, durable);
      },
      close: () => inner.close(),
    });
    const path = join(dir, 'corral.db');
    const stores = await withJournal(openSqliteStores({ path, durability: 'fsync' }), {
      dir: journalDir, durability: 'fsync', segmentBytes: 4096, flushIntervalMs: 1,
      writeBehind: (inner) => recording(new SqliteWriteBehind({ path, durability: 'fsync' }, inner)),
    });
    await stores.log.claim('t', 1);
    await stores.log.append([{ topic: 't', epoch: 1, records: [record(1, 500)] }]);
    await stores.log.bounds('t'); // the worker has started and written once
    // Until a segment has been deleted while the log is open (one is sealed every ~8 appends).
    const deletedWhileOpen = (): boolean => writes.some((w) => w.segmentsBefore.some((s) => !segments().includes(s)));
    for (let i = 2; i <= 2000 && !deletedWhileOpen(); i++) await stores.log.append([{ topic: 't', epoch: 1, records: [record(i, 500)] }]);
    await stores.log.bounds('t'); // waits until the store holds everything
    await stores.close();
    assert.deepEqual(segments(), [], 'a clean close leaves no journal');
    const after = [...writes.slice(1).map((w) => w.segmentsBefore), []];
    const deletedAfter = writes.map((w, i) => w.segmentsBefore.filter((s) => !after[i]!.includes(s)));
    assert.ok(deletedAfter.slice(0, -1).some((d) => d.length > 0), 'segments were sealed and deleted while the log was open, not only at close');
    deletedAfter.forEach((deleted, i) => {
      if (deleted.length > 0) assert.equal(writes[i]!.durable, true, `write-behind ${i} was followed by deleting ${deleted.join(', ')}`);
    });
    assert.ok(writes.some((w) => !w.durable), 'the other write-behinds commit without waiting for the disk');
  });
});
