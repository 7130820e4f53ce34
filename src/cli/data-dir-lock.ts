import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CorralError } from '../protocol/corral-error.js';

/** The lock file inside a data directory; it names the process holding the directory. */
export const LOCK_FILE = 'corral.lock';

interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** The file whose kernel lock is the claim: SQLite's exclusive lock, which the kernel drops when its process dies however it dies. */
const KERNEL_LOCK_FILE = 'corral.lock.db';

/**
 * An exclusive claim on a data directory by one running hub: two hubs on one
 * SQLite file would both claim every topic and fence each other. The claim is
 * a kernel lock (an exclusive SQLite transaction on a file of its own, held
 * for the hub's life), so a crashed hub's claim ends with its process: no
 * stale lock to judge by pid, no race between two hubs taking one over.
 * `corral.lock` only names the holder, for the refusal's message.
 */
export class DataDirLock {
  private released = false;

  private constructor(readonly path: string, private readonly content: string, private readonly db: Database.Database) {}

  /** Takes the lock of `dir` (which must exist), or throws DATA_DIR_LOCKED naming the holder. */
  static acquire(dir: string): DataDirLock {
    const path = join(dir, LOCK_FILE);
    const me: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
    const content = JSON.stringify(me) + '\n';
    // Written whole, then renamed once the lock is ours: a reader never sees it half written.
    // Written first, so an unwritable directory fails with its errno.
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temp, content, { mode: 0o644 });
    let db: Database.Database | undefined;
    try {
      db = new Database(join(dir, KERNEL_LOCK_FILE), { timeout: 0 });
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db?.close();
      unlinkSync(temp);
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw lockedError(dir, path, readHolder(path));
      throw err;
    }
    renameSync(temp, path);
    const lock = new DataDirLock(path, content, db);
    process.once('exit', () => lock.release());
    return lock;
  }

  /** Removes the holder file and ends the kernel lock. */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (readFileSync(this.path, 'utf8') === this.content) unlinkSync(this.path);
    } catch {
      // Already gone: nothing to remove.
    }
    this.db.close();
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.hostname === 'string') return { pid: h.pid, hostname: h.hostname, startedAt: String(h.startedAt) };
  } catch {
    // Missing (released meanwhile) or not ours to parse: treated as stale.
  }
  return undefined;
}

function lockedError(dir: string, path: string, h: LockHolder | undefined): CorralError {
  const who = h === undefined ? 'another process' : `the hub with pid ${h.pid}${h.hostname === hostname() ? '' : ` on ${h.hostname}`} (since ${h.startedAt})`;
  return new CorralError('DATA_DIR_LOCKED',
    `data directory ${dir} is in use by ${who}; stop that hub, or start this one with another --data (lock file ${path})`);
}
