import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withJournal } from '../store/journal/with-journal.js';
import { backupSqlite, type BackupResult } from '../store/sqlite/sqlite-backup.js';
import { openSqliteStores } from '../store/sqlite/open-sqlite-stores.js';
import { journalDir, storeFile } from './claim-data-dir.js';

/**
 * A running standalone hub's data directory as one self-contained SQLite
 * file. Acknowledged records may still be only in the journal (SQLite is
 * written behind it), so the journal is copied first, then SQLite is backed
 * up, then the copied journal is replayed into the backup: a segment the hub
 * deletes meanwhile was already in SQLite, so it is in the snapshot, and a
 * record journaled after the copy began is simply newer than the backup.
 */
export async function backupStandalone(dataDir: string, dest: string): Promise<BackupResult & { journalSegments: number }> {
  const work = mkdtempSync(join(tmpdir(), 'corral-backup-'));
  try {
    const journal = join(work, 'journal');
    mkdirSync(journal);
    let journalSegments = 0;
    for (const name of journalFiles(dataDir)) {
      try {
        copyFileSync(join(journalDir(dataDir), name), join(journal, name));
        journalSegments++;
      } catch (err) {
        // Deleted by the hub between the listing and the copy: SQLite holds it.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const result = await backupSqlite(storeFile(dataDir), dest);
    const stores = await withJournal(openSqliteStores({ path: dest, durability: 'fsync' }), { dir: journal, durability: 'fsync' });
    await stores.close();
    return { ...result, journalSegments };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The journal's files; none when the hub never ran with a journal. */
function journalFiles(dataDir: string): string[] {
  try {
    return readdirSync(journalDir(dataDir), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
