import assert from 'node:assert/strict';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isCorralError } from '../../src/protocol/corral-error.js';
import { runFencingConformance } from './conformance/fencing-conformance.js';
import { runMessageLogConformance } from './conformance/message-log-conformance.js';
import { runMetadataStoreConformance } from './conformance/metadata-store-conformance.js';
import type { StoreHarness } from './conformance/store-harness.js';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.js';
import { SqliteDatabase } from '../../src/store/sqlite/sqlite-database.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite/sqlite-migrations.js';
import type { Durability, Stores } from '../../src/store/stores.js';
import { eventually } from '../support/eventually.js';
import { tempDir } from '../support/hub-process.js';
import { killAfterReport } from '../support/kill-after-report.js';

const dirs: string[] = [];
function sqliteDir(): string {
  const dir = tempDir('corral-sqlite-');
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A harness over a fresh file; `pick` chooses which of the two stores the suite sees. */
async function sqliteHarness<T>(pick: (s: Stores) => T, durability: Durability): Promise<StoreHarness<T>> {
  const dir = sqliteDir();
  const path = join(dir, 'corral.db');
  let stores = openSqliteStores({ path, durability });
  const harness: StoreHarness<T> = {
    store: pick(stores),
    async reopen() {
      await stores.close();
      stores = openSqliteStores({ path, durability });
      harness.store = pick(stores);
      return harness.store;
    },
    async destroy() {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

for (const durability of ['fsync', 'process'] as const) {
  runMetadataStoreConformance(`sqlite, durability ${durability}`, () => sqliteHarness((s) => s.metadata, durability));
  runMessageLogConformance(`sqlite, durability ${durability}`, () => sqliteHarness((s) => s.log, durability));
  runFencingConformance(`sqlite, durability ${durability}`, () => sqliteHarness((s) => s, durability));
}

function withRawFile<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

describe('SQLite stores', () => {
  for (const [durability, synchronous] of [['fsync', 2], ['process', 1]] as const) {
    it(`opens in WAL mode with synchronous=${synchronous} for durability "${durability}"`, async () => {
      const db = SqliteDatabase.open({ path: join(sqliteDir(), 'corral.db'), durability });
      db.retain();
      try {
        assert.equal(db.handle.pragma('journal_mode', { simple: true }), 'wal');
        assert.equal(db.handle.pragma('synchronous', { simple: true }), synchronous);
        assert.ok((db.handle.pragma('busy_timeout', { simple: true }) as number) > 0);
        // Checkpoints belong to the worker thread; a commit only finishes one when the WAL grew large.
        assert.ok((db.handle.pragma('wal_autocheckpoint', { simple: true }) as number) >= 5000);
      } finally {
        await db.release();
      }
    });
  }

  it('checkpoints the WAL into the database file from its worker thread', async () => {
    const path = join(sqliteDir(), 'corral.db');
    const stores = openSqliteStores({ path, durability: 'process' });
    try {
      await stores.log.claim('cp', 1);
      const payload = Buffer.alloc(1024, 1);
      const records = Array.from({ length: 4000 }, (_, i) => ({ seq: i + 1, timestamp: 1, key: undefined, payload, producerId: undefined, producerSeq: 0 }));
      await stores.log.append([{ topic: 'cp', epoch: 1, records }]);
      const before = statSync(path).size;
      // 4 MB of WAL is far below the commit-time threshold: only the worker can grow the database file.
      await eventually(() => assert.ok(statSync(path).size > before + 2_000_000, `database file ${statSync(path).size} bytes`));
    } finally {
      await stores.close();
    }
  });

  it('records the schema version in the file and creates missing directories', async () => {
    const path = join(sqliteDir(), 'a', 'b', 'corral.db');
    const stores = openSqliteStores({ path, durability: 'process' });
    await stores.close();
    assert.ok(SQLITE_SCHEMA_VERSION >= 1);
    assert.equal(withRawFile(path, (db) => db.pragma('user_version', { simple: true })), SQLITE_SCHEMA_VERSION);
  });

  it('reopens an existing file without migrating it again and keeps its data', async () => {
    const path = join(sqliteDir(), 'corral.db');
    let stores = openSqliteStores({ path, durability: 'fsync' });
    await stores.metadata.put('k', 'v');
    await stores.log.claim('t', 1);
    await stores.close();
    stores = openSqliteStores({ path, durability: 'process' });
    assert.equal((await stores.metadata.get('k'))?.value, 'v');
    assert.equal((await stores.log.bounds('t'))?.epoch, 1);
    await stores.close();
  });

  it('migrates producer rows of a version 3 file: each counts as used when its record was stored, or now if trimmed', async () => {
    const path = join(sqliteDir(), 'corral.db');
    withRawFile(path, (db) => {
      for (const m of SQLITE_MIGRATIONS.filter((x) => x.version <= 3)) db.exec(m.sql);
      db.pragma('user_version = 3');
      db.exec(`INSERT INTO topics (id, name, epoch, last_seq) VALUES (1, 't', 1, 2);
        INSERT INTO messages (topic_id, seq, timestamp, key, payload, producer_id, producer_seq) VALUES (1, 2, 1700000000000, NULL, x'00', 'kept', 5);
        INSERT INTO producers (topic_id, producer_id, producer_seq, seq) VALUES (1, 'kept', 5, 2), (1, 'trimmed', 9, 1);`);
    });
    const before = Date.now();
    const stores = openSqliteStores({ path, durability: 'process' });
    try {
      const producers = await stores.log.producers('t', 10);
      assert.deepEqual(producers[0], { producerId: 'kept', producerSeq: 5, seq: 2, lastUsedMs: 1_700_000_000_000 });
      assert.equal(producers[1]?.producerId, 'trimmed');
      // The migration's clock has whole seconds.
      assert.ok(producers[1].lastUsedMs >= Math.floor(before / 1000) * 1000 && producers[1].lastUsedMs <= Date.now(), String(producers[1].lastUsedMs));
    } finally {
      await stores.close();
    }
  });

  it('refuses a file written by a newer schema version and leaves it untouched', async () => {
    const path = join(sqliteDir(), 'corral.db');
    await openSqliteStores({ path, durability: 'process' }).close();
    const newer = SQLITE_SCHEMA_VERSION + 1;
    withRawFile(path, (db) => db.pragma(`user_version = ${newer}`));
    assert.throws(
      () => openSqliteStores({ path, durability: 'process' }),
      (err: unknown) => isCorralError(err, 'STORE_UNAVAILABLE') && err.message.includes(`schema version ${newer}`),
    );
    assert.equal(withRawFile(path, (db) => db.pragma('user_version', { simple: true })), newer);
  });

  it('reports a file that is not a database as STORE_UNAVAILABLE', () => {
    const path = join(sqliteDir(), 'corral.db');
    writeFileSync(path, Buffer.alloc(8192, 'not a database '));
    assert.throws(
      () => openSqliteStores({ path, durability: 'process' }),
      (err: unknown) => isCorralError(err, 'STORE_UNAVAILABLE') && err.cause instanceof Error,
    );
  });

  it('shares one connection: each store closes on its own, the file closes with the last', async () => {
    const stores = openSqliteStores({ path: join(sqliteDir(), 'corral.db'), durability: 'process' });
    await stores.metadata.close();
    await assert.rejects(stores.metadata.get('k'), (err: unknown) => isCorralError(err, 'STORE_UNAVAILABLE'));
    await stores.log.claim('t', 1);
    await stores.close();
    await assert.rejects(stores.log.topics(), (err: unknown) => isCorralError(err, 'STORE_UNAVAILABLE'));
  });

  for (const durability of ['fsync', 'process'] as const) {
    it(`keeps acknowledged appends when the process is killed (durability "${durability}")`, async () => {
      const path = join(sqliteDir(), 'corral.db');
      const moduleUrl = new URL('../../src/store/sqlite/open-sqlite-stores.js', import.meta.url).href;
      // The child appends, reports, then hangs until SIGKILL: no close, no checkpoint.
      const script = `
        const { openSqliteStores } = await import(${JSON.stringify(moduleUrl)});
        const stores = openSqliteStores({ path: ${JSON.stringify(path)}, durability: ${JSON.stringify(durability)} });
        await stores.log.claim('t', 1);
        for (let i = 0; i < 20; i++) {
          const records = Array.from({ length: 50 }, (_, j) => ({
            seq: i * 50 + j + 1, timestamp: Date.now(), key: undefined, payload: Buffer.alloc(100, j), producerId: undefined, producerSeq: 0,
          }));
          await stores.log.append([{ topic: 't', epoch: 1, records }]);
        }
        process.stdout.write('appended\\n');
        setInterval(() => {}, 1000);
      `;
      await killAfterReport(script);
      const stores = openSqliteStores({ path, durability });
      try {
        assert.deepEqual(await stores.log.bounds('t'), { topic: 't', firstSeq: 1, lastSeq: 1000, epoch: 1 });
        assert.deepEqual(await stores.log.usage('t'), { records: 1000, bytes: 100_000 });
      } finally {
        await stores.close();
      }
    });
  }
});
