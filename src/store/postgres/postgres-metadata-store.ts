import { CorralError } from '../../protocol/corral-error.js';
import type { Fence, ManyEntry, MetadataBatch, MetadataEntry, MetadataStore, PutOptions, PutResult } from '../metadata-store.js';
import { PG_ARRAY } from './postgres-array-types.js';
import type { PostgresSession } from './postgres-session.js';
import type { PostgresPool } from './postgres-pool.js';
import { isSessionEnded } from './postgres-store-error.js';

interface EntryRow {
  key: string;
  value: string;
  version: number;
  expires_at: number | null;
}

interface PutRow {
  ok: boolean;
  cur_version: number | null;
  cur_value: string | null;
  cur_expires_at: number | null;
}

function toEntry(row: EntryRow): MetadataEntry {
  return { key: row.key, value: row.value, version: row.version, expiresAt: row.expires_at ?? undefined };
}

/**
 * The smallest string above every string that starts with `prefix`, in code
 * point order (the "C" collation of the key column), or undefined when there
 * is none. Together with `key >= prefix` this is a literal prefix match that
 * the primary key index answers as a range: no LIKE, so `_`, `%` and `\` in
 * keys mean themselves.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (points.length > 0) {
    const last = points.pop() ?? 0;
    if (last < 0x10ffff) {
      // The successor of U+D7FF skips the surrogates, which UTF-8 cannot carry.
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}

function fencedError(fence: Fence, raised: number | null | undefined): CorralError {
  return new CorralError('FENCED', `fence ${fence.key} is at epoch ${raised}, higher than ${fence.epoch}; nothing written`);
}

/**
 * MetadataStore on PostgreSQL (schema: migration 001). TTLs run on
 * the database clock; ephemeral keys live as long as the store's session.
 *
 * A fenced write is one statement: it locks the fence row (`FOR UPDATE`, so
 * a raise waits for it and it reads a raise that committed first), checks it
 * and writes. Never a client-side transaction: a hub paused between the
 * statements of one would hold the fence row's lock, and the new owner
 * raising the fence would wait for the paused hub.
 */
export class PostgresMetadataStore implements MetadataStore {
  constructor(
    private readonly pool: PostgresPool,
    private readonly session: PostgresSession,
  ) {}

  get(key: string): Promise<MetadataEntry | undefined> {
    return this.pool.guard(async () => {
      const rows = await this.pool.sql<EntryRow[]>`
        SELECT key, value, version, expires_at FROM corral_metadata
        WHERE key = ${key} AND corral_entry_live(expires_at, owner_session)`;
      const row = rows[0];
      return row === undefined ? undefined : toEntry(row);
    });
  }

  put(key: string, value: string, opts: PutOptions = {}): Promise<PutResult> {
    return this.pool.guard(async () => {
      const session = opts.ephemeral === true ? await this.session.id() : null;
      const fence = opts.fence;
      let rows: PutRow[];
      try {
        rows = fence === undefined
          ? await this.pool.sql<PutRow[]>`
              SELECT ok, cur_version, cur_value, cur_expires_at
              FROM corral_put(${key}, ${value}, ${opts.expectedVersion ?? null}::bigint, ${opts.ttlMs ?? null}::bigint, ${session}::int)`
          : await this.pool.sql<PutRow[]>`
              WITH f AS (
                SELECT value::bigint AS epoch FROM corral_metadata
                WHERE key = ${fence.key} AND corral_entry_live(expires_at, owner_session) FOR UPDATE
              ), g AS (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.epoch > ${fence.epoch}::bigint))
              SELECT p.ok, p.cur_version, p.cur_value, p.cur_expires_at
              FROM g CROSS JOIN LATERAL corral_put(${key}, ${value}, ${opts.expectedVersion ?? null}::bigint, ${opts.ttlMs ?? null}::bigint, ${session}::int) AS p`;
      } catch (err) {
        if (isSessionEnded(err)) this.session.ended();
        throw err;
      }
      const row = rows[0];
      if (row === undefined) {
        if (fence !== undefined) throw fencedError(fence, Number((await this.get(fence.key))?.value));
        throw new Error('corral_put returned no row');
      }
      if (row.ok) return { ok: true, version: row.cur_version ?? 0 };
      const current = row.cur_version === null || row.cur_value === null
        ? undefined
        : { key, value: row.cur_value, version: row.cur_version, expiresAt: row.cur_expires_at ?? undefined };
      return { ok: false, current };
    });
  }

  putMany(entries: ReadonlyArray<ManyEntry>): Promise<boolean[]> {
    if (entries.length === 0) return Promise.resolve([]);
    // One row per key (ON CONFLICT may touch a row once per statement): the
    // last value wins and the version grows by the number of writes, exactly
    // as if the entries had been written one by one.
    const merged = new Map<string, { value: string; writes: number; fence: Fence | undefined }>();
    for (const e of entries) merged.set(e.key, { value: e.value, writes: (merged.get(e.key)?.writes ?? 0) + 1, fence: e.fence });
    const keys = [...merged.keys()];
    const rows = keys.map((k) => merged.get(k)!);
    const fenceKeys = [...new Set(rows.flatMap((r) => (r.fence === undefined ? [] : [r.fence.key])))];
    const { sql } = this.pool;
    return this.pool.guard(async () => {
      // Fence rows are locked, and rows written, in key order, so that two
      // overlapping putMany calls lock them in the same order and cannot deadlock.
      const written = await sql<Array<{ key: string }>>`
        WITH u AS (
          SELECT * FROM unnest(${sql.typed(keys, PG_ARRAY.text)}::text[], ${sql.typed(rows.map((r) => r.value), PG_ARRAY.text)}::text[],
                               ${sql.typed(rows.map((r) => r.writes), PG_ARRAY.int8)}::bigint[],
                               ${sql.typed(rows.map((r) => r.fence?.key ?? null), PG_ARRAY.text)}::text[],
                               ${sql.typed(rows.map((r) => r.fence?.epoch ?? null), PG_ARRAY.int8)}::bigint[])
            AS u(key, value, writes, fence_key, fence_epoch)
        ), f AS (
          SELECT key, value::bigint AS epoch FROM corral_metadata
          WHERE key = ANY(${sql.typed(fenceKeys, PG_ARRAY.text)}::text[]) AND corral_entry_live(expires_at, owner_session)
          ORDER BY key COLLATE "C" FOR UPDATE
        ), ok AS (
          SELECT u.key, u.value, u.writes FROM u
          WHERE u.fence_key IS NULL OR NOT EXISTS (SELECT 1 FROM f WHERE f.key = u.fence_key AND f.epoch > u.fence_epoch)
        )
        INSERT INTO corral_metadata AS m (key, value, version, expires_at, owner_session)
        SELECT ok.key, ok.value, ok.writes, NULL, NULL FROM ok ORDER BY ok.key COLLATE "C"
        ON CONFLICT (key) DO UPDATE
          SET value = excluded.value, version = m.version + excluded.version, expires_at = NULL, owner_session = NULL
        RETURNING m.key`;
      const done = new Set(written.map((r) => r.key));
      return entries.map((e) => done.has(e.key));
    });
  }

  writeBatch(fence: Fence, batch: MetadataBatch): Promise<void> {
    // One row per key, as in putMany; a key both put and deleted is put.
    const merged = new Map<string, { value: string; writes: number }>();
    for (const p of batch.puts) merged.set(p.key, { value: p.value, writes: (merged.get(p.key)?.writes ?? 0) + 1 });
    const keys = [...merged.keys()];
    const rows = keys.map((k) => merged.get(k)!);
    const deletes = [...new Set(batch.deletes)].filter((k) => !merged.has(k));
    const { sql } = this.pool;
    return this.pool.guard(async () => {
      // One statement, like every fenced write here: the fence row is locked
      // first, and the deletes and puts happen only if it was not raised above.
      const [row] = await sql<[{ raised: string | null }]>`
        WITH f AS (
          SELECT value::bigint AS epoch FROM corral_metadata
          WHERE key = ${fence.key} AND corral_entry_live(expires_at, owner_session) FOR UPDATE
        ), g AS (
          SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.epoch > ${fence.epoch}::bigint)
        ), d AS (
          DELETE FROM corral_metadata
          WHERE key = ANY(${sql.typed(deletes, PG_ARRAY.text)}::text[]) AND corral_entry_live(expires_at, owner_session)
            AND EXISTS (SELECT 1 FROM g)
          RETURNING 1
        ), i AS (
          INSERT INTO corral_metadata AS m (key, value, version, expires_at, owner_session)
          SELECT u.key, u.value, u.writes, NULL, NULL
          FROM unnest(${sql.typed(keys, PG_ARRAY.text)}::text[], ${sql.typed(rows.map((r) => r.value), PG_ARRAY.text)}::text[],
                      ${sql.typed(rows.map((r) => r.writes), PG_ARRAY.int8)}::bigint[]) AS u(key, value, writes)
          WHERE EXISTS (SELECT 1 FROM g)
          ORDER BY u.key COLLATE "C"
          ON CONFLICT (key) DO UPDATE
            SET value = excluded.value, version = m.version + excluded.version, expires_at = NULL, owner_session = NULL
          RETURNING 1
        )
        SELECT (SELECT max(epoch) FROM f)::text AS raised, (SELECT count(*) FROM d) + (SELECT count(*) FROM i) AS n`;
      const raised = row?.raised == null ? 0 : Number(row.raised);
      if (raised > fence.epoch) throw fencedError(fence, raised);
    });
  }

  delete(key: string, expectedVersion?: number, fence?: Fence): Promise<boolean> {
    const expected = expectedVersion ?? null;
    return this.pool.guard(async () => {
      if (fence === undefined) {
        const rows = await this.pool.sql`
          DELETE FROM corral_metadata
          WHERE key = ${key} AND corral_entry_live(expires_at, owner_session)
            AND (${expected}::bigint IS NULL OR version = ${expected}::bigint)
          RETURNING 1`;
        return rows.length > 0;
      }
      const [row] = await this.pool.sql<[{ deleted: number; raised: number | null }]>`
        WITH f AS (
          SELECT value::bigint AS epoch FROM corral_metadata
          WHERE key = ${fence.key} AND corral_entry_live(expires_at, owner_session) FOR UPDATE
        ), d AS (
          DELETE FROM corral_metadata
          WHERE key = ${key} AND corral_entry_live(expires_at, owner_session)
            AND (${expected}::bigint IS NULL OR version = ${expected}::bigint)
            AND NOT EXISTS (SELECT 1 FROM f WHERE f.epoch > ${fence.epoch}::bigint)
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM d)::int AS deleted, (SELECT max(epoch) FROM f) AS raised`;
      if (row !== undefined && row.raised !== null && row.raised > fence.epoch) throw fencedError(fence, row.raised);
      return (row?.deleted ?? 0) > 0;
    });
  }

  list(prefix: string): Promise<MetadataEntry[]> {
    const upper = prefixUpperBound(prefix);
    return this.pool.guard(async () => {
      const rows = upper === undefined
        ? await this.pool.sql<EntryRow[]>`
            SELECT key, value, version, expires_at FROM corral_metadata
            WHERE key >= ${prefix} AND corral_entry_live(expires_at, owner_session)
            ORDER BY key`
        : await this.pool.sql<EntryRow[]>`
            SELECT key, value, version, expires_at FROM corral_metadata
            WHERE key >= ${prefix} AND key < ${upper} AND corral_entry_live(expires_at, owner_session)
            ORDER BY key`;
      return rows.map(toEntry);
    });
  }

  now(): Promise<number> {
    return this.pool.guard(async () => {
      const [row] = await this.pool.sql<[{ now: number }]>`SELECT corral_now_ms() AS now`;
      if (row === undefined) throw new Error('corral_now_ms returned no row');
      return row.now;
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.session.close(), this.pool.end()]);
  }
}
