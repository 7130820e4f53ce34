import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CorralError, isCorralError } from '../protocol/corral-error.js';
import { DataDirLock } from './data-dir-lock.js';

const WHY: Record<string, string> = {
  EEXIST: 'a file (not a directory) has that name',
  ENOTDIR: 'a file (not a directory) is in its path',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
};

/** The SQLite store file inside a standalone hub's data directory. */
export function storeFile(dataDir: string): string {
  return join(resolve(dataDir), 'corral.db');
}

/** The ack journal's segments inside a standalone hub's data directory. */
export function journalDir(dataDir: string): string {
  return join(resolve(dataDir), 'journal');
}

/**
 * Creates the data directory when missing and takes its lock. Every failure
 * names the directory and what to do: DATA_DIR_UNUSABLE or DATA_DIR_LOCKED.
 */
export function claimDataDir(dir: string): DataDirLock {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true });
    return DataDirLock.acquire(path);
  } catch (err) {
    if (isCorralError(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = WHY[code] ?? (err instanceof Error ? err.message : String(err));
    throw new CorralError('DATA_DIR_UNUSABLE',
      `cannot use data directory ${path}: ${why}${code ? ` (${code})` : ''}; choose another --data, or give the user running corral write access to it`,
      { cause: err });
  }
}
