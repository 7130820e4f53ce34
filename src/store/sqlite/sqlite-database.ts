import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { CorralError } from '../../protocol/corral-error.js';
import type { Durability } from '../stores.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from './sqlite-migrations.js';

export interface SqliteDatabaseOptions {
  /** The database file; missing parent directories are created. */
  path: string;
  durability: Durability;
}

/**
 * synchronous=FULL fsyncs the WAL on every commit (survives power loss);
 * NORMAL leaves it to the checkpoint, which WAL mode keeps safe against a
 * crash of the process.
 */
const SYNCHRONOUS: Record<Durability, string> = { fsync: 'FULL', process: 'NORMAL' };

/** How often the checkpoint worker copies the WAL back into the database. */
const CHECKPOINT_INTERVAL_MS = 200;
/** Pages of WAL (8 KiB, ~80 MB) after which a commit checkpoints, so the WAL restarts. */
const WAL_RESTART_PAGES = 10_000;
/** Pages of WAL after which a commit checkpoints itself if the worker is gone. */
const FALLBACK_AUTOCHECKPOINT_PAGES = 5000;
const CHECKPOINT_WORKER = new URL('./sqlite-checkpoint-worker.js', import.meta.url);

/** Wrap any failure of the driver as the one retryable store error; Corral's own errors pass through. */
function storeError(err: unknown): CorralError {
  if (err instanceof CorralError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new CorralError('STORE_UNAVAILABLE', `SQLite: ${detail}`, { cause: err });
}

/**
 * One better-sqlite3 connection shared by the stores of a data directory.
 * Each store retains it; the last release closes the file.
 */
export class SqliteDatabase {
  readonly handle: Database.Database;
  #users = 0;
  #checkpointer: Worker | undefined;

  private constructor(
    handle: Database.Database,
    private readonly path: string,
    private readonly durability: Durability,
  ) {
    this.handle = handle;
  }

  /** Opens (or creates) the file, sets the pragmas for the durability and brings the schema up to date. */
  static open(opts: SqliteDatabaseOptions): SqliteDatabase {
    let handle: Database.Database;
    try {
      mkdirSync(dirname(opts.path), { recursive: true });
      handle = new Database(opts.path);
    } catch (err) {
      throw storeError(err);
    }
    try {
      const db = new SqliteDatabase(handle, opts.path, opts.durability);
      db.#configure(opts.durability);
      db.#migrate(opts.path);
      db.#startCheckpointer(opts.path);
      return db;
    } catch (err) {
      handle.close();
      throw storeError(err);
    }
  }

  /** The schema version recorded in the file. */
  get schemaVersion(): number {
    return this.handle.pragma('user_version', { simple: true }) as number;
  }

  /** Runs a synchronous driver call, turning its failures into STORE_UNAVAILABLE. */
  call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storeError(err);
    }
  }

  /**
   * Runs a synchronous driver call whose commits do not wait for the disk
   * (synchronous=NORMAL: they survive a crash of the process, and a power
   * loss once `syncWal` has run), then puts the durability's setting back
   * for every other commit on the connection.
   */
  callUnsynced<T>(fn: () => T): T {
    if (this.durability === 'process') return this.call(fn);
    this.handle.pragma('synchronous = NORMAL');
    try {
      return this.call(fn);
    } finally {
      this.handle.pragma(`synchronous = ${SYNCHRONOUS[this.durability]}`);
    }
  }

  /**
   * Makes every commit so far survive a power loss, off the event loop: an
   * fdatasync of the WAL file. Commits already copied into the database file
   * are on disk, as a checkpoint syncs the file before the WAL may start over.
   */
  async syncWal(): Promise<void> {
    if (this.durability === 'process') return;
    try {
      // Only the WAL: closing a descriptor of the database file would drop
      // SQLite's POSIX locks on it, which lie on the database and -shm files.
      const wal = await open(`${this.path}-wal`, 'r+');
      try {
        await wal.datasync();
      } finally {
        await wal.close();
      }
    } catch (err) {
      // No WAL: everything is in the database file, synced by the checkpoint that ended it.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storeError(err);
    }
  }

  retain(): void {
    this.#users++;
  }

  /** The last release stops the checkpoint worker (waiting for it to close its connection) and closes the file. */
  async release(): Promise<void> {
    this.#users--;
    if (this.#users > 0) return;
    const w = this.#checkpointer;
    this.#checkpointer = undefined;
    if (w) {
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.ref(); // keep the process alive until the worker has let go of the file
      w.postMessage('stop');
      await exited;
    }
    this.call(() => this.handle.close());
  }

  /**
   * Checkpoints run in a worker thread on their own connection: measured, an
   * automatic checkpoint inside a commit stalled the hub for 7–30 ms about
   * once a second under steady publishing (docs/benchmarks.md).
   */
  #startCheckpointer(path: string): void {
    const w = new Worker(CHECKPOINT_WORKER, { workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS } });
    w.unref();
    // Without it the WAL only grows: fall back to checkpoints inside commits.
    const fallBack = (): void => {
      if (this.#checkpointer !== w) return;
      this.#checkpointer = undefined;
      if (this.#users > 0 && this.handle.open) this.handle.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    };
    w.on('error', fallBack);
    w.on('exit', fallBack);
    this.#checkpointer = w;
  }

  #configure(durability: Durability): void {
    const h = this.handle;
    // 8 KiB pages hold more records each than the 4 KiB default (fewer page
    // splits per append, measured faster); only takes effect on a new file.
    h.pragma('page_size = 8192');
    h.pragma('journal_mode = WAL');
    h.pragma(`synchronous = ${SYNCHRONOUS[durability]}`);
    // Checkpoints are the worker's job (see #startCheckpointer); but a
    // checkpoint from another connection can never *restart* the WAL while
    // commits keep coming, so past this size a commit finishes the
    // checkpoint itself (the worker has copied nearly everything already)
    // and the WAL starts over instead of growing without end.
    h.pragma(`wal_autocheckpoint = ${WAL_RESTART_PAGES}`);
    // After a checkpoint, shrink a WAL that a burst grew beyond this.
    h.pragma('journal_size_limit = 67108864');
    // Wait out a checkpoint or another opener instead of failing at once.
    h.pragma('busy_timeout = 5000');
    // 8 MiB of page cache (negative = KiB). Subscribers at the head read from
    // the hub's memory, not from here; 32 MiB kept the hub 27 MB larger after
    // a catch-up (W5) without a measurable gain in its speed (benchmarks.md).
    h.pragma('cache_size = -8192');
  }

  #migrate(path: string): void {
    const current = this.schemaVersion;
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new CorralError(
        'STORE_UNAVAILABLE',
        `${path} has schema version ${current}, but this Corral understands versions up to ${SQLITE_SCHEMA_VERSION}; run a newer Corral on it`,
      );
    }
    for (const m of SQLITE_MIGRATIONS) {
      if (m.version <= current) continue;
      this.handle.transaction(() => {
        this.handle.exec(m.sql);
        this.handle.pragma(`user_version = ${m.version}`);
      }).immediate();
    }
  }
}
