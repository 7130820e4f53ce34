import type { TopicBatch } from '../message-log.js';
import type { JournalEntry } from './journal-entry.js';

/** What the store behind holds of a topic, as merging needs it. */
export interface StoredTopic {
  epoch: number;
  lastSeq: number;
}

/**
 * The records of `entries` the store does not hold yet, as one batch per
 * topic in seq order: records at or below the store's lastSeq are skipped,
 * so applying the same entries twice (a replay after a crash between the
 * store's commit and the journal's retirement, a write-behind retried after
 * its worker died mid-reply) stores each record once. Each batch carries the
 * store's epoch: the journal is the store's only writer and checked fencing
 * before it journaled anything. `stored` answers undefined for a topic the
 * store does not know, which is an error (the journal cannot create topics).
 */
export function mergeEntries(entries: readonly JournalEntry[], stored: (topic: string) => StoredTopic | undefined): TopicBatch[] {
  const byTopic = new Map<string, { after: number; batch: TopicBatch }>();
  for (const e of entries) {
    for (const b of e.batches) {
      let t = byTopic.get(b.topic);
      if (t === undefined) {
        const s = stored(b.topic);
        if (s === undefined) throw new RangeError(`the journal holds records of topic ${b.topic}, which the store does not know`);
        t = { after: s.lastSeq, batch: { topic: b.topic, epoch: s.epoch, records: [] } };
        byTopic.set(b.topic, t);
      }
      for (const r of b.records) {
        if (r.seq <= t.after) continue;
        t.batch.records.push(r);
        t.after = r.seq;
      }
    }
  }
  return [...byTopic.values()].map((t) => t.batch).filter((b) => b.records.length > 0);
}
