import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { isCorralError } from '../../src/protocol/corral-error.js';
import { runFencingConformance } from './conformance/fencing-conformance.js';
import { runMessageLogConformance } from './conformance/message-log-conformance.js';
import { runMetadataStoreConformance } from './conformance/metadata-store-conformance.js';
import type { StoreHarness } from './conformance/store-harness.js';
import type { LogRecord, TopicBatch } from '../../src/store/message-log.js';
import type { PutResult } from '../../src/store/metadata-store.js';
import { openPostgresStores } from '../../src/store/postgres/open-postgres-stores.js';
import { prefixUpperBound } from '../../src/store/postgres/postgres-metadata-store.js';
import { POSTGRES_SCHEMA_VERSION } from '../../src/store/postgres/postgres-migrations.js';
import type { Durability, Stores } from '../../src/store/stores.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { eventually } from '../support/eventually.js';

// One server for the file; every harness and test gets its own schema.
let server: PostgresServer;
let admin: postgres.Sql;
before(async () => {
  server = await startPostgres();
  admin = postgres(server.url, { max: 4, onnotice: () => undefined });
});
after(async () => {
  await admin.end();
  await server.stop();
});

let schemas = 0;
function freshSchema(): string {
  return `t_${process.pid}_${++schemas}`;
}

function open(schema: string, durability: Durability = 'fsync'): Promise<Stores> {
  return openPostgresStores({ url: server.url, durability, schema });
}

/** A harness over a fresh schema; `pick` chooses which of the two stores the suite sees. */
async function postgresHarness<T>(pick: (s: Stores) => T, durability: Durability): Promise<StoreHarness<T>> {
  const schema = freshSchema();
  let stores = await open(schema, durability);
  const harness: StoreHarness<T> = {
    store: pick(stores),
    async reopen() {
      await stores.close();
      stores = await open(schema, durability);
      harness.store = pick(stores);
      return harness.store;
    },
    async destroy() {
      await stores.close();
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
  return harness;
}

for (const durability of ['fsync', 'process'] as const) {
  runMetadataStoreConformance(`postgres, durability ${durability}`, () => postgresHarness((s) => s.metadata, durability));
  runMessageLogConformance(`postgres, durability ${durability}`, () => postgresHarness((s) => s.log, durability));
  runFencingConformance(`postgres, durability ${durability}`, () => postgresHarness((s) => s, durability));
}

function records(fromSeq: number, count: number): LogRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    seq: fromSeq + i, timestamp: 1_700_000_000_000 + fromSeq + i, key: undefined, payload: Buffer.from(`m${fromSeq + i}`), producerId: undefined, producerSeq: 0,
  }));
}

function okVersion(res: PutResult): number {
  assert.ok(res.ok, `expected the write to succeed, got ${JSON.stringify(res)}`);
  return res.version;
}

function batch(topic: string, epoch: number, recs: LogRecord[]): TopicBatch {
  return { topic, epoch, records: recs };
}

/** Sessions of the test database that wait for a lock (a row lock held by another transaction). */
async function lockWaiters(): Promise<number> {
  const [row] = await admin<[{ n: number }]>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
  return row?.n ?? 0;
}

describe('PostgreSQL stores: migrations', () => {
  async function appliedVersions(schema: string): Promise<number[]> {
    const rows = await admin.unsafe<Array<{ version: number }>>(`SELECT version FROM ${schema}.corral_schema_migrations ORDER BY version`);
    return rows.map((r) => r.version);
  }

  const allVersions = Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1);

  it('applies every migration once and nothing on a second open', async () => {
    const schema = freshSchema();
    const first = await open(schema);
    await first.metadata.put('k', 'v');
    await first.close();
    assert.deepEqual(await appliedVersions(schema), allVersions);
    const second = await open(schema);
    assert.equal((await second.metadata.get('k'))?.version, 1);
    await second.close();
    assert.deepEqual(await appliedVersions(schema), allVersions);
  });

  it('lets many hubs open a new schema at once: one migrates, all work', async () => {
    const schema = freshSchema();
    const opened = await Promise.all(Array.from({ length: 8 }, () => open(schema)));
    assert.deepEqual(await appliedVersions(schema), allVersions);
    const results = await Promise.all(opened.map((s, i) => s.metadata.put('race', `hub-${i}`, { expectedVersion: 0 })));
    assert.equal(results.filter((r) => r.ok).length, 1);
    await Promise.all(opened.map((s) => s.close()));
  });

  it('refuses a schema migrated by a newer Corral', async () => {
    const schema = freshSchema();
    await (await open(schema)).close();
    await admin.unsafe(`INSERT INTO ${schema}.corral_schema_migrations (version, name) VALUES (${POSTGRES_SCHEMA_VERSION + 1}, 'from the future')`);
    await assert.rejects(open(schema), (err: unknown) => isCorralError(err, 'STORE_UNAVAILABLE'));
  });

  it('refuses a schema name that would need quoting', async () => {
    await assert.rejects(openPostgresStores({ url: server.url, durability: 'fsync', schema: 'Bad"Name' }), (err: unknown) => isCorralError(err, 'INVALID_ARGUMENT'));
  });
});

describe('PostgreSQL stores: fencing under concurrency', () => {
  /**
   * Holds the topic's row lock in a separate transaction, starts `first` and
   * then `second` so that both wait for it (in that order), then releases it.
   */
  async function queueBehindRowLock<A, B>(schema: string, topic: string, first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
    const holder = await admin.reserve();
    let a: Promise<A> | undefined;
    let b: Promise<B> | undefined;
    try {
      await holder`BEGIN`;
      await holder.unsafe(`SELECT 1 FROM ${schema}.corral_topics WHERE name = $1 FOR UPDATE`, [topic]);
      a = first();
      await eventually(async () => assert.equal(await lockWaiters(), 1));
      b = second();
      await eventually(async () => assert.equal(await lockWaiters(), 2));
    } finally {
      await holder`ROLLBACK`;
      holder.release();
    }
    return Promise.all([a, b]);
  }

  it('an append waiting while a higher claim commits stores nothing', async () => {
    const schema = freshSchema();
    const [hubA, hubB] = [await open(schema), await open(schema)];
    await hubA.log.claim('t', 1);
    await hubA.log.append([batch('t', 1, records(1, 2))]);
    const [claimed, stored] = await queueBehindRowLock(schema, 't',
      () => hubB.log.claim('t', 2),
      () => hubA.log.append([batch('t', 1, records(3, 1))]));
    assert.deepEqual(claimed, { topic: 't', firstSeq: 1, lastSeq: 2, epoch: 2 });
    assert.deepEqual(stored, [false]);
    assert.deepEqual((await hubB.log.read('t', 1, { maxRecords: 100, maxBytes: 1 << 20 })).map((r) => r.seq), [1, 2]);
    assert.deepEqual(await hubB.log.bounds('t'), { topic: 't', firstSeq: 1, lastSeq: 2, epoch: 2 });
    await Promise.all([hubA.close(), hubB.close()]);
  });

  it('an append that holds the topic first commits, and the claim sees it', async () => {
    const schema = freshSchema();
    const [hubA, hubB] = [await open(schema), await open(schema)];
    await hubA.log.claim('t', 1);
    const [stored, claimed] = await queueBehindRowLock(schema, 't',
      () => hubA.log.append([batch('t', 1, records(1, 3))]),
      () => hubB.log.claim('t', 2));
    assert.deepEqual(stored, [true]);
    assert.deepEqual(claimed, { topic: 't', firstSeq: 1, lastSeq: 3, epoch: 2 });
    await Promise.all([hubA.close(), hubB.close()]);
  });

  it('no append of the old owner lands after the new owner claimed, across many topics', async () => {
    const schema = freshSchema();
    const [hubA, hubB] = [await open(schema), await open(schema)];
    const topics = Array.from({ length: 20 }, (_, i) => `topic.${i}`);
    for (const t of topics) await hubA.log.claim(t, 1);
    const next = new Map(topics.map((t) => [t, 1]));
    const fenced = new Set<string>();
    let commits = 0;
    // The old owner keeps appending to every topic, one group commit at a time,
    // until every topic refuses it.
    const writer = (async () => {
      while (fenced.size < topics.length) {
        const live = topics.filter((t) => !fenced.has(t));
        const size = 1 + (commits % 3);
        const res = await hubA.log.append(live.map((t) => batch(t, 1, records(next.get(t) ?? 1, size))));
        commits++;
        res.forEach((ok, i) => {
          const t = live[i] ?? '';
          if (ok) next.set(t, (next.get(t) ?? 1) + size);
          else fenced.add(t);
        });
      }
    })();
    await eventually(() => assert.ok(commits >= 5));
    // The new owner claims the topics at once, in an order unlike the writer's lock order.
    const claims = await Promise.all([...topics].reverse().map((t) => hubB.log.claim(t, 2)));
    await writer;
    for (const c of claims) {
      const stored = (await hubB.log.read(c.topic, 1, { maxRecords: 100_000, maxBytes: 1 << 30 })).map((r) => r.seq);
      // Everything acknowledged to the old owner was there when the claim committed, and nothing else.
      assert.equal(c.lastSeq, (next.get(c.topic) ?? 1) - 1, `topic ${c.topic}`);
      assert.equal(stored.length, c.lastSeq, `topic ${c.topic}`);
      assert.equal((await hubB.log.bounds(c.topic))?.lastSeq, c.lastSeq);
    }
    await Promise.all([hubA.close(), hubB.close()]);
  });
});

describe('PostgreSQL stores: ephemeral keys across hubs', () => {
  const LONG_TTL = { ttlMs: 600_000 };

  /** The backend pid of the store session holding keys in `schema` (migration 001's advisory lock). */
  async function sessionPids(schema: string): Promise<number[]> {
    const rows = await admin<Array<{ pid: number }>>`
      SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted
        AND classid = hashtext(${`corral.session.${schema}`})::oid`;
    return rows.map((r) => r.pid);
  }

  it('are seen by other hubs while the writer lives, and gone once it closes', async () => {
    const schema = freshSchema();
    const [hubA, hubB] = [await open(schema), await open(schema)];
    await hubA.metadata.put('hub|a', 'alive', { ephemeral: true, ...LONG_TTL });
    assert.equal((await hubB.metadata.get('hub|a'))?.value, 'alive');
    await hubA.close();
    assert.equal(await hubB.metadata.get('hub|a'), undefined);
    assert.equal(okVersion(await hubB.metadata.put('hub|a', 'b now', { expectedVersion: 0, ephemeral: true })), 2);
    await hubB.close();
  });

  it('vanish when the writing process is killed, long before their TTL', async () => {
    const schema = freshSchema();
    const storesModule = new URL('../../src/store/postgres/open-postgres-stores.js', import.meta.url).href;
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      const { openPostgresStores } = await import(${JSON.stringify(storesModule)});
      const stores = await openPostgresStores({ url: process.env.PG_URL, durability: 'fsync', schema: process.env.PG_SCHEMA });
      await stores.metadata.put('hub|child', 'alive', { ephemeral: true, ttlMs: 600000 });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 60000);
    `], { env: { ...process.env, PG_URL: server.url, PG_SCHEMA: schema }, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    try {
      const [ready] = await once(child.stdout, 'data') as [Buffer];
      assert.equal(ready.toString(), 'ready\n');
      const observer = await open(schema);
      assert.equal((await observer.metadata.get('hub|child'))?.value, 'alive');
      child.kill('SIGKILL');
      await exited;
      await eventually(async () => assert.equal(await observer.metadata.get('hub|child'), undefined));
      assert.deepEqual(await sessionPids(schema), []);
      await observer.close();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('start a new session after the database ended the old one', async () => {
    const schema = freshSchema();
    const hub = await open(schema);
    await hub.metadata.put('hub|a', 'first', { ephemeral: true, ...LONG_TTL });
    const [pid] = await sessionPids(schema);
    assert.ok(pid !== undefined, 'the store holds a session lock');
    await admin`SELECT pg_terminate_backend(${pid}::int)`;
    await eventually(async () => assert.equal(await hub.metadata.get('hub|a'), undefined));
    // The store may learn that its session ended from the write itself: then
    // that write fails, retryable and storing nothing, and the retry succeeds.
    const write = (): Promise<PutResult> => hub.metadata.put('hub|a', 'second', { expectedVersion: 0, ephemeral: true, ...LONG_TTL });
    let res: PutResult;
    try {
      res = await write();
    } catch (err) {
      assert.ok(isCorralError(err, 'STORE_UNAVAILABLE') && err.retryable, String(err));
      assert.equal(await hub.metadata.get('hub|a'), undefined);
      res = await write();
    }
    assert.equal(okVersion(res), 2);
    assert.equal((await hub.metadata.get('hub|a'))?.value, 'second');
    const [newPid] = await sessionPids(schema);
    assert.ok(newPid !== undefined && newPid !== pid, 'a new session holds the lock');
    await hub.close();
  });
});

describe('PostgreSQL stores: outage', () => {
  it('reports STORE_UNAVAILABLE while the server is down and works again after it restarts', async () => {
    const own = await startPostgres();
    try {
      const stores = await openPostgresStores({ url: own.url, durability: 'fsync' });
      await stores.metadata.put('k', 'v');
      await stores.log.claim('t', 1);
      await stores.log.append([batch('t', 1, records(1, 2))]);
      await own.stopServer();
      const whileDown: Array<() => Promise<unknown>> = [
        () => stores.metadata.get('k'),
        () => stores.metadata.put('k', 'w'),
        () => stores.metadata.now(),
        () => stores.log.append([batch('t', 1, records(3, 1))]),
        () => stores.log.read('t', 1, { maxRecords: 10, maxBytes: 1000 }),
        () => stores.log.claim('t', 2),
      ];
      for (const op of whileDown) {
        await assert.rejects(op(), (err: unknown) => isCorralError(err, 'STORE_UNAVAILABLE') && err.retryable);
      }
      await own.startServer();
      assert.equal((await stores.metadata.get('k'))?.value, 'v');
      assert.deepEqual(await stores.log.append([batch('t', 1, records(3, 1))]), [true]);
      assert.deepEqual((await stores.log.read('t', 1, { maxRecords: 10, maxBytes: 1000 })).map((r) => r.seq), [1, 2, 3]);
      await stores.close();
    } finally {
      await own.stop();
    }
  });
});

describe('PostgreSQL stores: prefix ranges', () => {
  it('bounds a prefix by the successor of its last code point', () => {
    assert.equal(prefixUpperBound(''), undefined);
    assert.equal(prefixUpperBound('sub|t|'), 'sub|t}');
    assert.equal(prefixUpperBound('a\u{d7ff}'), 'a\u{e000}');
    assert.equal(prefixUpperBound('a\u{10ffff}'), 'b');
    assert.equal(prefixUpperBound('\u{10ffff}\u{10ffff}'), undefined);
  });

  it('lists keys with characters beyond the Basic Multilingual Plane under their prefix only', async () => {
    const stores = await open(freshSchema());
    const keys = ['p|\u{1f600}', 'p|\u{1f600}x', 'p|\u{1f601}', 'p|\u{ffff}', 'p|\u{10ffff}', 'p}'];
    for (const k of keys) await stores.metadata.put(k, 'v');
    assert.deepEqual((await stores.metadata.list('p|\u{1f600}')).map((e) => e.key), ['p|\u{1f600}', 'p|\u{1f600}x']);
    assert.deepEqual((await stores.metadata.list('p|')).map((e) => e.key), ['p|\u{ffff}', 'p|\u{1f600}', 'p|\u{1f600}x', 'p|\u{1f601}', 'p|\u{10ffff}']);
    await stores.close();
  });
});
