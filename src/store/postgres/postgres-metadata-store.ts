import { CorralError } from '../../protocol/corral-error.js';
import type { Fence, ManyEntry, MetadataEntry, MetadataStore, PutOptions, PutResult } from '../metadata-store.js';
import { PG_TYPE, type PostgresQueryable, type PostgresSql } from './postgres-connection.js';
import type { PostgresSession } from './postgres-session.js';
import { guardStore, isSessionEnded } from './postgres-store-error.js';

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

/**
 * Locks the fence rows (in key order, so two writers cannot deadlock) and
 * returns the epoch each is raised to. The lock holds until the transaction
 * ends: a raise (itself a write of the fence row) waits for it, and a write
 * waiting on a raise reads the raised value once it commits.
 */
async function lockFences(tx: PostgresQueryable, keys: readonly string[]): Promise<Map<string, number>> {
  const sorted = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length === 0) return new Map();
  const rows = await tx<Array<{ key: string; value: string }>>`
    SELECT key, value FROM corral_metadata
    WHERE key = ANY(${tx.array(sorted, PG_TYPE.text)}::text[]) AND corral_entry_live(expires_at, owner_session)
    ORDER BY key COLLATE "C" FOR UPDATE`;
  return new Map(rows.map((r) => [r.key, Number(r.value)]));
}

function fenceHolds(raised: Map<string, number>, fence: Fence | undefined): boolean {
  return fence === undefined || !((raised.get(fence.key) ?? 0) > fence.epoch);
}

function fencedError(fence: Fence, raised: Map<string, number>): CorralError {
  return new CorralError('FENCED', `fence ${fence.key} is at epoch ${raised.get(fence.key)}, higher than ${fence.epoch}; nothing written`);
}

/**
 * MetadataStore on PostgreSQL (schema: migration 001). TTLs run on
 * the database clock; ephemeral keys live as long as the store's session.
 */
export class PostgresMetadataStore implements MetadataStore {
  constructor(
    private readonly sql: PostgresSql,
    private readonly session: PostgresSession,
  ) {}

  get(key: string): Promise<MetadataEntry | undefined> {
    return guardStore(async () => {
      const rows = await this.sql<EntryRow[]>`
        SELECT key, value, version, expires_at FROM corral_metadata
        WHERE key = ${key} AND corral_entry_live(expires_at, owner_session)`;
      const row = rows[0];
      return row === undefined ? undefined : toEntry(row);
    });
  }

  put(key: string, value: string, opts: PutOptions = {}): Promise<PutResult> {
    const fence = opts.fence;
    if (fence === undefined) return guardStore(() => this.putWith(this.sql, key, value, opts));
    return guardStore(() => this.sql.begin(async (tx) => {
      const raised = await lockFences(tx, [fence.key]);
      if (!fenceHolds(raised, fence)) throw fencedError(fence, raised);
      return this.putWith(tx, key, value, opts);
    }));
  }

  private async putWith(sql: PostgresQueryable, key: string, value: string, opts: PutOptions): Promise<PutResult> {
    const session = opts.ephemeral === true ? await this.session.id() : null;
    let row: PutRow | undefined;
    try {
      [row] = await sql<[PutRow]>`
        SELECT ok, cur_version, cur_value, cur_expires_at
        FROM corral_put(${key}, ${value}, ${opts.expectedVersion ?? null}::bigint, ${opts.ttlMs ?? null}::bigint, ${session}::int)`;
    } catch (err) {
      if (isSessionEnded(err)) this.session.ended();
      throw err;
    }
    if (row === undefined) throw new Error('corral_put returned no row');
    if (row.ok) return { ok: true, version: row.cur_version ?? 0 };
    const current = row.cur_version === null || row.cur_value === null
      ? undefined
      : { key, value: row.cur_value, version: row.cur_version, expiresAt: row.cur_expires_at ?? undefined };
    return { ok: false, current };
  }

  putMany(all: ReadonlyArray<ManyEntry>): Promise<boolean[]> {
    const fences = all.flatMap((e) => (e.fence === undefined ? [] : [e.fence.key]));
    if (fences.length === 0) return this.putManyWith(this.sql, all).then(() => all.map(() => true));
    return guardStore(() => this.sql.begin(async (tx) => {
      const raised = await lockFences(tx, fences);
      const verdicts = all.map((e) => fenceHolds(raised, e.fence));
      await this.putManyWith(tx, all.filter((_, i) => verdicts[i]));
      return verdicts;
    }));
  }

  private putManyWith(sql: PostgresQueryable, entries: ReadonlyArray<ManyEntry>): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    // One row per key (ON CONFLICT may touch a row once per statement): the
    // last value wins and the version grows by the number of writes, exactly
    // as if the entries had been written one by one.
    const merged = new Map<string, { value: string; writes: number }>();
    for (const e of entries) merged.set(e.key, { value: e.value, writes: (merged.get(e.key)?.writes ?? 0) + 1 });
    const keys = [...merged.keys()];
    const values = keys.map((k) => merged.get(k)?.value ?? '');
    const writes = keys.map((k) => merged.get(k)?.writes ?? 1);
    return guardStore(async () => {
      // Rows are written in key order so that two overlapping putMany calls
      // lock them in the same order and cannot deadlock.
      await sql`
        INSERT INTO corral_metadata AS m (key, value, version, expires_at, owner_session)
        SELECT u.key, u.value, u.writes, NULL, NULL
          FROM unnest(${sql.array(keys, PG_TYPE.text)}::text[], ${sql.array(values, PG_TYPE.text)}::text[],
                      ${sql.array(writes, PG_TYPE.int8)}::bigint[]) AS u(key, value, writes)
          ORDER BY u.key COLLATE "C"
        ON CONFLICT (key) DO UPDATE
          SET value = excluded.value, version = m.version + excluded.version, expires_at = NULL, owner_session = NULL`;
    });
  }

  delete(key: string, expectedVersion?: number, fence?: Fence): Promise<boolean> {
    if (fence === undefined) return guardStore(() => this.deleteWith(this.sql, key, expectedVersion));
    return guardStore(() => this.sql.begin(async (tx) => {
      const raised = await lockFences(tx, [fence.key]);
      if (!fenceHolds(raised, fence)) throw fencedError(fence, raised);
      return this.deleteWith(tx, key, expectedVersion);
    }));
  }

  private async deleteWith(sql: PostgresQueryable, key: string, expectedVersion: number | undefined): Promise<boolean> {
    const rows = await sql`
      DELETE FROM corral_metadata
      WHERE key = ${key} AND corral_entry_live(expires_at, owner_session)
        AND (${expectedVersion ?? null}::bigint IS NULL OR version = ${expectedVersion ?? null}::bigint)
      RETURNING 1`;
    return rows.length > 0;
  }

  list(prefix: string): Promise<MetadataEntry[]> {
    const upper = prefixUpperBound(prefix);
    return guardStore(async () => {
      const rows = upper === undefined
        ? await this.sql<EntryRow[]>`
            SELECT key, value, version, expires_at FROM corral_metadata
            WHERE key >= ${prefix} AND corral_entry_live(expires_at, owner_session)
            ORDER BY key`
        : await this.sql<EntryRow[]>`
            SELECT key, value, version, expires_at FROM corral_metadata
            WHERE key >= ${prefix} AND key < ${upper} AND corral_entry_live(expires_at, owner_session)
            ORDER BY key`;
      return rows.map(toEntry);
    });
  }

  now(): Promise<number> {
    return guardStore(async () => {
      const [row] = await this.sql<[{ now: number }]>`SELECT corral_now_ms() AS now`;
      if (row === undefined) throw new Error('corral_now_ms returned no row');
      return row.now;
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.session.close(), this.sql.end({ timeout: 5 })]);
  }
}
