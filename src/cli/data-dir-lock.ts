import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CorralError } from '../protocol/corral-error.js';
import { processRunning } from './process-running.js';

/** The lock file inside a data directory; it names the process holding the directory. */
export const LOCK_FILE = 'corral.lock';

interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
}

/**
 * An exclusive claim on a data directory by one running hub: two hubs on one
 * SQLite file would both claim every topic and fence each other. The lock is
 * a file created atomically (a hard link of a fully written temp file, so a
 * reader never sees it half written) holding the holder's pid; a lock whose
 * process no longer runs on this machine is stale and taken over.
 */
export class DataDirLock {
  private released = false;

  private constructor(readonly path: string, private readonly content: string) {}

  /** Takes the lock of `dir` (which must exist), or throws DATA_DIR_LOCKED naming the holder. */
  static acquire(dir: string): DataDirLock {
    const path = join(dir, LOCK_FILE);
    const me: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
    const content = JSON.stringify(me) + '\n';
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temp, content, { mode: 0o644 });
    try {
      // Two attempts: the second after removing a stale lock.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(temp, path);
          // A racer that also judged the old lock stale may have replaced ours: the file must be ours.
          if (readFileSync(path, 'utf8') !== content) break;
          const lock = new DataDirLock(path, content);
          process.once('exit', () => lock.release());
          return lock;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const holder = readHolder(path);
        if (holder !== undefined && isLive(holder)) throw lockedError(dir, path, holder);
        removeIfUnchanged(path, holder);
      }
      throw lockedError(dir, path, readHolder(path));
    } finally {
      unlinkSync(temp);
    }
  }

  /** Removes the lock file if it is still this process's. */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (readFileSync(this.path, 'utf8') === this.content) unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
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

/** A holder on another machine (a shared file system) cannot be checked, so it counts as live. */
function isLive(h: LockHolder): boolean {
  if (h.hostname !== hostname()) return true;
  // The same pid as ours is an earlier incarnation (a container restarted with the same pid).
  return h.pid !== process.pid && processRunning(h.pid);
}

function removeIfUnchanged(path: string, stale: LockHolder | undefined): void {
  const now = readHolder(path);
  if (now !== undefined && (stale === undefined || now.pid !== stale.pid || now.startedAt !== stale.startedAt)) return;
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function lockedError(dir: string, path: string, h: LockHolder | undefined): CorralError {
  const who = h === undefined ? 'another process' : `the hub with pid ${h.pid}${h.hostname === hostname() ? '' : ` on ${h.hostname}`} (since ${h.startedAt})`;
  return new CorralError('DATA_DIR_LOCKED',
    `data directory ${dir} is in use by ${who}; stop that hub, or start this one with another --data (lock file ${path})`);
}
