import type { Database, Transaction } from 'better-sqlite3';
import { CorralError } from '../../protocol/corral-error.js';
import type { LogRecord, TopicBatch } from '../message-log.js';

/** A topic's row as append and claim read it. */
export interface TopicRow {
  id: number;
  epoch: number;
  last_seq: number;
}

export const SELECT_TOPIC = 'SELECT id, epoch, last_seq FROM topics WHERE name = ?';

/** Rows per multi-row INSERT: one statement call per 64 records is markedly faster than 64 calls. */
const ROWS_PER_INSERT = 64;
const ROW_PLACEHOLDERS = '(?, ?, ?, ?, ?, ?, ?)';
const INSERT_MESSAGES = 'INSERT INTO messages (topic_id, seq, timestamp, key, payload, producer_id, producer_seq) VALUES';

/** The bind values of records[from, from + count) for ROW_PLACEHOLDERS, row after row. */
function insertArgs(topicId: number, records: readonly LogRecord[], from: number, count: number): unknown[] {
  const args = new Array<unknown>(count * 7);
  for (let j = 0, o = 0; j < count; j++, o += 7) {
    const r = records[from + j]!;
    args[o] = topicId;
    args[o + 1] = r.seq;
    args[o + 2] = r.timestamp;
    args[o + 3] = r.key ?? null;
    args[o + 4] = r.payload;
    args[o + 5] = r.producerId ?? null;
    args[o + 6] = r.producerSeq;
  }
  return args;
}

/**
 * MessageLog.append as one SQLite transaction.
 *
 * In:  batches of records per topic, each with the epoch its writer claimed.
 * Out: per batch, true = stored (messages, topics.last_seq, producers
 *      raised with the time of their newest record), false = fenced (the topic's epoch is higher;
 *      nothing of that batch is written).
 * Throws CorralError INTERNAL, rolling back the whole call, for a topic never
 * claimed or a seq that is not the topic's lastSeq + 1, + 2, … (caller bugs).
 */
export function prepareSqliteAppend(h: Database): Transaction<(batches: readonly TopicBatch[]) => boolean[]> {
  const topic = h.prepare<[string], TopicRow>(SELECT_TOPIC);
  const setLastSeq = h.prepare<[number, number]>('UPDATE topics SET last_seq = ? WHERE id = ?');
  const insertOne = h.prepare<unknown[]>(`${INSERT_MESSAGES} ${ROW_PLACEHOLDERS}`);
  const insertChunk = h.prepare<unknown[]>(`${INSERT_MESSAGES} ${Array(ROWS_PER_INSERT).fill(ROW_PLACEHOLDERS).join(', ')}`);
  // Keeps the highest producer_seq: a lower one stored later does not move it back.
  const upsertProducer = h.prepare<[number, string, number, number, number]>(
    `INSERT INTO producers (topic_id, producer_id, producer_seq, seq, last_used) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (topic_id, producer_id) DO UPDATE SET producer_seq = excluded.producer_seq, seq = excluded.seq, last_used = excluded.last_used
     WHERE excluded.producer_seq > producers.producer_seq`,
  );

  /** Stores one unfenced batch of a claimed topic. */
  function store(t: TopicRow, b: TopicBatch): void {
    const recs = b.records;
    if (recs.length === 0) return;
    // Only publishers that asked for de-duplication pay for this map.
    let highest: Map<string, LogRecord> | undefined;
    for (const [i, r] of recs.entries()) {
      const due = t.last_seq + 1 + i;
      if (r.seq !== due) throw new CorralError('INTERNAL', `append to topic ${b.topic}: seq ${r.seq} where ${due} was due`);
      if (r.producerId !== undefined) {
        highest ??= new Map();
        const prev = highest.get(r.producerId);
        if (prev === undefined || r.producerSeq > prev.producerSeq) highest.set(r.producerId, r);
      }
    }
    let i = 0;
    for (; i + ROWS_PER_INSERT <= recs.length; i += ROWS_PER_INSERT) insertChunk.run(...insertArgs(t.id, recs, i, ROWS_PER_INSERT));
    for (; i < recs.length; i++) insertOne.run(...insertArgs(t.id, recs, i, 1));
    const lastSeq = t.last_seq + recs.length;
    setLastSeq.run(lastSeq, t.id);
    for (const [producerId, r] of highest ?? []) upsertProducer.run(t.id, producerId, r.producerSeq, r.seq, r.timestamp);
  }

  return h.transaction((batches: readonly TopicBatch[]): boolean[] =>
    batches.map((b) => {
      const t = topic.get(b.topic);
      if (t === undefined) throw new CorralError('INTERNAL', `append to topic ${b.topic}, which was never claimed`);
      if (b.epoch < t.epoch) return false;
      store(t, b);
      return true;
    }),
  );
}
