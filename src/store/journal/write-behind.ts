import { open } from 'node:fs/promises';
import { CorralError } from '../../protocol/corral-error.js';
import type { MessageLog, TopicBounds } from '../message-log.js';
import { decodeEntries, type JournalEntry } from './journal-entry.js';
import type { JournalSpan } from './journal-segments.js';
import { mergeEntries } from './merge-entries.js';

/**
 * Writes journal entries into the store behind the journal. The journal
 * hands over where the entries lie in its segment files (in entry order),
 * not their bytes: nothing is copied or re-encoded on the hub's event loop,
 * and an implementation may do the whole work elsewhere (a worker thread),
 * reading the entries back from the page cache.
 */
export interface WriteBehind {
  /**
   * Stores every record of the entries in `spans` the store does not hold
   * yet, in one transaction. `durable`: the journal is about to delete these
   * entries, so the store must hold them as durably as the journal did
   * (fsync mode: on disk, not only in the page cache) before this resolves.
   * The spans stay readable until then.
   */
  write(spans: readonly JournalSpan[], durable: boolean): Promise<number>;
  close(): Promise<void>;
}

/**
 * Applies journal entries to a MessageLog through its own interface (any
 * backend); also how the journal is replayed on start. Returns how many
 * records were stored.
 */
export async function replayEntries(inner: MessageLog, entries: readonly JournalEntry[]): Promise<number> {
  const known = new Map<string, TopicBounds | undefined>();
  for (const e of entries) {
    for (const b of e.batches) if (!known.has(b.topic)) known.set(b.topic, await inner.bounds(b.topic));
  }
  let batches;
  try {
    batches = mergeEntries(entries, (topic) => known.get(topic));
  } catch (err) {
    throw new CorralError('STORE_UNAVAILABLE', (err as Error).message, { cause: err });
  }
  if (batches.length === 0) return 0;
  const stored = await inner.append(batches);
  const refused = batches.filter((_, i) => !stored[i]).map((b) => b.topic);
  if (refused.length > 0) throw new CorralError('STORE_UNAVAILABLE', `the store refused journaled records of ${refused.join(', ')}`);
  return batches.reduce((n, b) => n + b.records.length, 0);
}

/**
 * The store behind written on the calling thread through its MessageLog
 * interface. Its durability is the inner log's own (the replay on start,
 * stores without a worker of their own).
 */
export class InlineWriteBehind implements WriteBehind {
  constructor(private readonly inner: MessageLog) {}

  async write(spans: readonly JournalSpan[]): Promise<number> {
    const entries: JournalEntry[] = [];
    for (const s of spans) entries.push(...decodeEntries(await readSpan(s)));
    return replayEntries(this.inner, entries);
  }

  async close(): Promise<void> {}
}

async function readSpan(span: JournalSpan): Promise<Buffer> {
  const file = await open(span.path, 'r');
  try {
    const buf = Buffer.allocUnsafe(span.length);
    const { bytesRead } = await file.read(buf, 0, span.length, span.offset);
    if (bytesRead !== span.length) throw new CorralError('STORE_UNAVAILABLE', `journal segment ${span.path} ends before byte ${span.offset + span.length}`);
    return buf;
  } finally {
    await file.close();
  }
}
