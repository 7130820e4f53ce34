/**
 * Worker thread: checkpoints the WAL of one SQLite file from its own
 * connection, so the copy of WAL pages into the database (and its fsync)
 * never runs inside a commit on the hub's event loop. PASSIVE never blocks
 * the writer; a checkpoint that could not finish is simply taken up again
 * on the next tick.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path);
db.pragma('busy_timeout = 1000');
// A checkpoint then syncs the WAL before it copies and the database file
// after (OFF would not): SqliteDatabase.syncWal relies on the second.
db.pragma('synchronous = NORMAL');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
}, intervalMs);

parentPort?.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
