import type { Statement, Transaction } from 'better-sqlite3';
import { CorralError } from '../../protocol/corral-error.js';
import type { Fence, ManyEntry, MetadataBatch, MetadataEntry, MetadataStore, PutOptions, PutResult } from '../metadata-store.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface MetadataRow {
  key: string;
  value: string;
  version: number;
  expires_at: number | null;
}

function toEntry(row: MetadataRow): MetadataEntry {
  return { key: row.key, value: row.value, version: row.version, expiresAt: row.expires_at ?? undefined };
}

function isLive(row: MetadataRow | undefined, now: number): row is MetadataRow {
  return row !== undefined && (row.expires_at === null || row.expires_at > now);
}

function fencedError(fence: Fence, raised: number): CorralError {
  return new CorralError('FENCED', `fence ${fence.key} is at epoch ${raised}, higher than ${fence.epoch}; nothing written`);
}

/**
 * MetadataStore on the embedded SQLite file. One connection serves one process,
 * so a read-check-write inside a transaction is all compare-and-set needs; the
 * store clock is this machine's clock.
 */
export class SqliteMetadataStore implements MetadataStore {
  readonly #db: SqliteDatabase;
  #closed = false;
  readonly #select: Statement<[string], MetadataRow>;
  readonly #from: Statement<[string], MetadataRow>;
  readonly #put: Transaction<(key: string, value: string, opts: PutOptions) => PutResult>;
  readonly #putMany: Transaction<(entries: ReadonlyArray<ManyEntry>) => boolean[]>;
  readonly #writeBatch: Transaction<(fence: Fence, batch: MetadataBatch) => void>;
  readonly #delete: Transaction<(key: string, expectedVersion: number | undefined, fence: Fence | undefined) => boolean>;

  constructor(db: SqliteDatabase) {
    const h = db.handle;
    const select = h.prepare<[string], MetadataRow>('SELECT key, value, version, expires_at FROM metadata WHERE key = ?');
    // Version 1 for a new key, otherwise the stored version + 1, lapsed or not.
    const write = h.prepare<[string, string, number | null, number], { version: number }>(
      `INSERT INTO metadata (key, value, version, expires_at, ephemeral) VALUES (?, ?, 1, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = metadata.version + 1,
         expires_at = excluded.expires_at, ephemeral = excluded.ephemeral
       RETURNING version`,
    );
    // The previous process's session is over: its ephemeral keys go with it.
    h.prepare('DELETE FROM metadata WHERE ephemeral = 1').run();
    const remove = h.prepare<[string]>('DELETE FROM metadata WHERE key = ?');

    // The epoch a fence was raised to, when it is above the writer's; 0 lets the write through.
    const raisedAbove = (fence: Fence | undefined): number => {
      if (fence === undefined) return 0;
      const row = select.get(fence.key);
      const raised = isLive(row, Date.now()) ? Number(row.value) : 0;
      return raised > fence.epoch ? raised : 0;
    };
    this.#put = h.transaction((key: string, value: string, opts: PutOptions): PutResult => {
      const now = Date.now();
      const raised = raisedAbove(opts.fence);
      if (raised !== 0) throw fencedError(opts.fence!, raised);
      if (opts.expectedVersion !== undefined) {
        const row = select.get(key);
        const live = isLive(row, now);
        const matches = opts.expectedVersion === 0 ? !live : live && row.version === opts.expectedVersion;
        if (!matches) return { ok: false, current: live ? toEntry(row) : undefined };
      }
      const written = write.get(key, value, opts.ttlMs === undefined ? null : now + opts.ttlMs, opts.ephemeral ? 1 : 0);
      return { ok: true, version: written!.version };
    });
    this.#putMany = h.transaction((entries: ReadonlyArray<ManyEntry>): boolean[] => entries.map((e) => {
      if (raisedAbove(e.fence) !== 0) return false;
      write.get(e.key, e.value, null, 0);
      return true;
    }));
    // Deletes only live rows, as delete does: a lapsed row stays so that its version carries on.
    const removeLive = h.prepare<[string, number]>('DELETE FROM metadata WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)');
    this.#writeBatch = h.transaction((fence: Fence, batch: MetadataBatch): void => {
      const raised = raisedAbove(fence);
      if (raised !== 0) throw fencedError(fence, raised);
      const now = Date.now();
      const written = new Set(batch.puts.map((p) => p.key));
      for (const key of batch.deletes) if (!written.has(key)) removeLive.run(key, now);
      for (const p of batch.puts) write.get(p.key, p.value, null, 0);
    });
    this.#delete = h.transaction((key: string, expectedVersion: number | undefined, fence: Fence | undefined): boolean => {
      const raised = raisedAbove(fence);
      if (raised !== 0) throw fencedError(fence!, raised);
      const row = select.get(key);
      // A lapsed row is absent to callers, but stays so that its version carries on.
      if (!isLive(row, Date.now())) return false;
      if (expectedVersion !== undefined && row.version !== expectedVersion) return false;
      remove.run(key);
      return true;
    });
    this.#select = select;
    this.#from = h.prepare('SELECT key, value, version, expires_at FROM metadata WHERE key >= ? ORDER BY key');
    this.#db = db;
    db.retain();
  }

  async get(key: string): Promise<MetadataEntry | undefined> {
    return this.#call(() => {
      const row = this.#select.get(key);
      return isLive(row, Date.now()) ? toEntry(row) : undefined;
    });
  }

  async put(key: string, value: string, opts: PutOptions = {}): Promise<PutResult> {
    return this.#call(() => this.#put.immediate(key, value, opts));
  }

  async putMany(entries: ReadonlyArray<ManyEntry>): Promise<boolean[]> {
    return this.#call(() => this.#putMany.immediate(entries));
  }

  async writeBatch(fence: Fence, batch: MetadataBatch): Promise<void> {
    return this.#call(() => this.#writeBatch.immediate(fence, batch));
  }

  async delete(key: string, expectedVersion?: number, fence?: Fence): Promise<boolean> {
    return this.#call(() => this.#delete.immediate(key, expectedVersion, fence));
  }

  async list(prefix: string): Promise<MetadataEntry[]> {
    return this.#call(() => {
      const now = Date.now();
      const out: MetadataEntry[] = [];
      // Keys with the prefix are one contiguous run in binary order, starting at
      // the prefix; comparing in JS keeps "%", "_" and "\" literal.
      for (const row of this.#from.iterate(prefix)) {
        if (!row.key.startsWith(prefix)) break;
        if (isLive(row, now)) out.push(toEntry(row));
      }
      return out;
    });
  }

  async now(): Promise<number> {
    return Date.now();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.release();
  }

  #call<T>(fn: () => T): T {
    if (this.#closed) throw new CorralError('STORE_UNAVAILABLE', 'the metadata store is closed');
    return this.#db.call(fn);
  }
}
