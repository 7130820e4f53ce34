import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CorralError } from '../../protocol/corral-error.js';
import { SQLITE_SCHEMA_VERSION } from './sqlite-migrations.js';

/** Wait this long for a write transaction of the running hub before giving up on the read lock. */
const BUSY_TIMEOUT_MS = 10_000;
/** Pages per backup step after the first: everything, so the copy is one snapshot under one read lock and never restarts. */
const ALL_PAGES = 0x7fffffff;

export interface BackupResult {
  pages: number;
  schemaVersion: number;
}

/**
 * Copies the SQLite store at `source` into a new file `dest` while a hub may
 * be writing it: SQLite's online backup, read from a connection of its own
 * (in WAL mode a reader never blocks the writer). The copy is a consistent
 * snapshot of what was committed when it started; it is checked before it
 * takes its final name.
 */
export async function backupSqlite(source: string, dest: string): Promise<BackupResult> {
  if (existsSync(dest)) throw new CorralError('INVALID_ARGUMENT', `${dest} exists; back up to a new file`);
  if (!existsSync(source)) throw new CorralError('DATA_DIR_UNUSABLE', `no store at ${source}: is --data the hub's data directory?`);
  const partial = `${dest}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const result = await db.backup(partial, { progress: () => ALL_PAGES });
    const schemaVersion = checkStore(partial, 'the backup just written');
    renameSync(partial, dest);
    return { pages: result.totalPages, schemaVersion };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    db.close();
  }
}

/**
 * Places a backup as the store file `dest` of an empty data directory (the
 * caller holds its lock). A hub started there later migrates an older schema
 * as usual.
 */
export function restoreSqlite(backup: string, dest: string): BackupResult {
  if (!existsSync(backup)) throw new CorralError('INVALID_ARGUMENT', `no backup file ${backup}`);
  for (const f of [dest, `${dest}-wal`]) {
    if (existsSync(f)) throw new CorralError('DATA_DIR_UNUSABLE', `${f} exists: restore into an empty data directory, or move the old store away first`);
  }
  const schemaVersion = checkStore(backup, backup);
  const partial = `${dest}.partial`;
  copyFileSync(backup, partial);
  renameSync(partial, dest);
  return { pages: 0, schemaVersion };
}

/** Integrity check and schema version; a file that is not a Corral store is refused. */
function checkStore(path: string, what: string): number {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CorralError('INVALID_ARGUMENT', `${what} is not an SQLite file: ${(err as Error).message}`, { cause: err });
  }
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new CorralError('INVALID_ARGUMENT', `${what} fails SQLite's integrity check: ${String(check)}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < 1) throw new CorralError('INVALID_ARGUMENT', `${what} is not a Corral store (no schema version)`);
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new CorralError('INVALID_ARGUMENT', `${what} has schema version ${version}, newer than this Corral understands (${SQLITE_SCHEMA_VERSION}): restore it with a newer corral`);
    }
    return version;
  } catch (err) {
    if (err instanceof CorralError) throw err;
    throw new CorralError('INVALID_ARGUMENT', `${what} is not a Corral store: ${(err as Error).message}`, { cause: err });
  } finally {
    db.close();
  }
}
