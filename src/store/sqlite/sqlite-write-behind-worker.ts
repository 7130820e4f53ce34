/**
 * Worker thread: writes journal entries into the SQLite message log from a
 * connection of its own, so the B-tree inserts and the commit never run on
 * the hub's event loop (docs/decisions/write-behind-worker.md).
 *
 * In:  { id, spans (where whole journal entries lie in its segment files), durable }
 *      or 'stop'.
 * Out: { id, records } (records stored; those the store held already are
 *      skipped), or { id, code, message } when the transaction failed and
 *      stored nothing.
 */
import { closeSync, fdatasyncSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { CorralError, isCorralError } from '../../protocol/corral-error.js';
import { decodeEntries, type JournalEntry } from '../journal/journal-entry.js';
import type { JournalSpan } from '../journal/journal-segments.js';
import { mergeEntries } from '../journal/merge-entries.js';
import { prepareSqliteAppend, SELECT_TOPIC, type TopicRow } from './prepare-sqlite-append.js';
import { BUSY_TIMEOUT_MS, WAL_RESTART_PAGES, WAL_SIZE_LIMIT_BYTES } from './sqlite-database.js';
import type { WriteBehindReply, WriteBehindRequest } from './sqlite-write-behind.js';

const { path, durability } = workerData as { path: string; durability: 'fsync' | 'process' };
const db = new Database(path, { fileMustExist: true });
db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
// NORMAL: a commit is not fsynced. Safe here because the journal, not this
// store, is what an acknowledgement waits for: everything committed here is
// also in the journal, which is replayed on start, and a journal segment is
// deleted only after the WAL holding its records was fsynced (`durable`).
db.pragma('synchronous = NORMAL');
// As on the hub's connection: past this size the commit that crosses it
// finishes the checkpoint and the WAL restarts; here that runs off the event loop.
db.pragma(`wal_autocheckpoint = ${WAL_RESTART_PAGES}`);
db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
// 16 MiB of page cache (negative = KiB): the tails of the topics being written.
db.pragma('cache_size = -16384');

const append = prepareSqliteAppend(db);
const topic = db.prepare<[string], TopicRow>(SELECT_TOPIC);
const apply = db.transaction((entries: readonly JournalEntry[]): number => {
  const batches = mergeEntries(entries, (name) => {
    const t = topic.get(name);
    return t === undefined ? undefined : { epoch: t.epoch, lastSeq: t.last_seq };
  });
  const stored = append(batches);
  const refused = batches.filter((_, i) => !stored[i]).map((b) => b.topic);
  if (refused.length > 0) throw new CorralError('STORE_UNAVAILABLE', `the store refused journaled records of ${refused.join(', ')}`);
  return batches.reduce((n, b) => n + b.records.length, 0);
});

/** The entries in a span of a segment file (just written: read from the page cache). */
function readEntries(span: JournalSpan): JournalEntry[] {
  const buf = Buffer.allocUnsafe(span.length);
  const fd = openSync(span.path, 'r');
  try {
    for (let read = 0; read < span.length;) {
      const n = readSync(fd, buf, read, span.length - read, span.offset + read);
      if (n === 0) throw new CorralError('STORE_UNAVAILABLE', `journal segment ${span.path} ends before byte ${span.offset + span.length}`);
      read += n;
    }
  } finally {
    closeSync(fd);
  }
  return decodeEntries(buf);
}

/**
 * Makes every commit so far durable: in WAL mode a commit is its frames in
 * the WAL file, so one fdatasync of that file is what synchronous=FULL would
 * have done after the last commit (earlier frames included). Frames a
 * checkpoint already copied back and restarted over are in the database
 * file, which SQLite fsyncs at the end of every complete checkpoint.
 */
function syncWal(): void {
  if (durability !== 'fsync') return;
  let fd: number;
  try {
    fd = openSync(`${path}-wal`, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // no WAL: everything is in the database file
    throw err;
  }
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

parentPort!.on('message', (m: WriteBehindRequest | 'stop') => {
  if (m === 'stop') {
    db.close();
    parentPort!.close();
    return;
  }
  let reply: WriteBehindReply;
  try {
    const records = m.spans.length === 0 ? 0 : apply.immediate(m.spans.flatMap(readEntries));
    if (m.durable) syncWal();
    reply = { id: m.id, records };
  } catch (err) {
    reply = { id: m.id, code: isCorralError(err) ? err.code : 'STORE_UNAVAILABLE', message: `SQLite write-behind: ${(err as Error).message}` };
  }
  parentPort!.postMessage(reply);
});
