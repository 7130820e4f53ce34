import type { Statement, Transaction } from 'better-sqlite3';
import { CorralError } from '../../protocol/corral-error.js';
import type { LogRecord, MessageLog, ProducerPrune, ProducerRecord, ProducerState, ReadLimit, TopicBatch, TopicBounds } from '../message-log.js';
import { prepareSqliteAppend, SELECT_TOPIC, type TopicRow } from './prepare-sqlite-append.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface BoundsRow {
  name: string;
  epoch: number;
  last_seq: number;
  first_seq: number | null;
}

/** Column order of the read SELECT, fetched in raw (array) mode to save an object per row. */
type MessageRow = [seq: number, timestamp: number, key: Buffer | null, payload: Buffer, producerId: string | null, producerSeq: number];

function toRecord(row: MessageRow): LogRecord {
  return { seq: row[0], timestamp: row[1], key: row[2] ?? undefined, payload: row[3], producerId: row[4] ?? undefined, producerSeq: row[5] };
}

function toBounds(row: BoundsRow): TopicBounds {
  return { topic: row.name, firstSeq: row.first_seq ?? row.last_seq + 1, lastSeq: row.last_seq, epoch: row.epoch };
}

const BOUNDS_COLUMNS = `t.name, t.epoch, t.last_seq,
  (SELECT m.seq FROM messages m WHERE m.topic_id = t.id ORDER BY m.seq LIMIT 1) AS first_seq`;

/** The topic id of a name, inside a query that takes the name as its first parameter. */
const TOPIC_ID = '(SELECT id FROM topics WHERE name = ?)';

/**
 * MessageLog on the embedded SQLite file: every statement prepared once, every
 * write one transaction. Messages are clustered by (topic_id, seq), so appends
 * go to the end of a topic's range and reads and trims are range scans.
 */
export class SqliteMessageLog implements MessageLog {
  readonly #db: SqliteDatabase;
  #closed = false;
  readonly #claim: Transaction<(topic: string, epoch: number) => TopicBounds>;
  readonly #append: Transaction<(batches: readonly TopicBatch[]) => boolean[]>;
  readonly #trim: Transaction<(topic: string, throughSeq: number, epoch: number | undefined) => number>;
  readonly #bounds: Statement<[string], BoundsRow>;
  readonly #allBounds: Statement<[], BoundsRow>;
  readonly #read: Statement<[string, number], MessageRow>;
  readonly #lastSeqBefore: Statement<[string, number], number | null>;
  readonly #usage: Statement<[string], { records: number; bytes: number }>;
  readonly #producers: Statement<[string, number], ProducerState>;
  readonly #pruneProducers: Statement<[string, number, string, number]>;
  readonly #producerRecords: Statement<[string, number, number, string], ProducerRecord>;

  constructor(db: SqliteDatabase) {
    const h = db.handle;
    const topic = h.prepare<[string], TopicRow>(SELECT_TOPIC);
    const bounds = h.prepare<[string], BoundsRow>(`SELECT ${BOUNDS_COLUMNS} FROM topics t WHERE t.name = ?`);
    const createTopic = h.prepare<[string, number]>('INSERT INTO topics (name, epoch, last_seq) VALUES (?, ?, 0)');
    const setEpoch = h.prepare<[number, number]>('UPDATE topics SET epoch = ? WHERE id = ?');
    const trimMessages = h.prepare<[number, number]>('DELETE FROM messages WHERE topic_id = ? AND seq <= ?');

    this.#claim = h.transaction((name: string, epoch: number): TopicBounds => {
      const t = topic.get(name);
      if (t === undefined) createTopic.run(name, epoch);
      else if (epoch < t.epoch) throw new CorralError('FENCED', `topic ${name} is claimed with epoch ${t.epoch}, higher than ${epoch}`);
      else if (epoch > t.epoch) setEpoch.run(epoch, t.id);
      return toBounds(bounds.get(name)!);
    });
    this.#append = prepareSqliteAppend(h);
    this.#trim = h.transaction((name: string, throughSeq: number, epoch: number | undefined): number => {
      const t = topic.get(name);
      if (t === undefined) return 0;
      if (epoch !== undefined && t.epoch > epoch) throw new CorralError('FENCED', `topic ${name} is claimed with epoch ${t.epoch}, higher than ${epoch}; nothing trimmed`);
      return trimMessages.run(t.id, throughSeq).changes;
    });

    this.#bounds = bounds;
    this.#allBounds = h.prepare(`SELECT ${BOUNDS_COLUMNS} FROM topics t ORDER BY t.name`);
    this.#read = h
      .prepare<[string, number], MessageRow>(
        `SELECT seq, timestamp, key, payload, producer_id, producer_seq
         FROM messages WHERE topic_id = ${TOPIC_ID} AND seq >= ? ORDER BY seq`,
      )
      .raw();
    // Scans the topic: exact whatever order the owners' clocks stamped records
    // in, and only asked for topics that retain by age (once per GC pass).
    this.#lastSeqBefore = h
      .prepare<[string, number], number | null>(`SELECT max(seq) FROM messages WHERE topic_id = ${TOPIC_ID} AND timestamp < ?`)
      .pluck();
    this.#usage = h.prepare(
      `SELECT count(*) AS records, coalesce(sum(length(payload)), 0) AS bytes FROM messages WHERE topic_id = ${TOPIC_ID}`,
    );
    // Sorts the topic's producer rows (no index: pruning keeps them few).
    this.#producers = h.prepare(
      `SELECT producer_id AS producerId, producer_seq AS producerSeq, seq, last_used AS lastUsedMs
       FROM producers WHERE topic_id = ${TOPIC_ID} ORDER BY seq DESC LIMIT ?`,
    );
    this.#pruneProducers = h.prepare(
      `DELETE FROM producers WHERE topic_id = ${TOPIC_ID} AND (last_used < ? OR producer_id NOT IN (
         SELECT producer_id FROM producers WHERE topic_id = ${TOPIC_ID} ORDER BY seq DESC LIMIT ?))`,
    );
    // A range of the primary key: bounded by toSeq - fromSeq, whatever the topic holds.
    this.#producerRecords = h.prepare(
      `SELECT seq, producer_seq AS producerSeq FROM messages
       WHERE topic_id = ${TOPIC_ID} AND seq >= ? AND seq <= ? AND producer_id = ? ORDER BY seq`,
    );
    this.#db = db;
    db.retain();
  }

  async claim(topic: string, epoch: number): Promise<TopicBounds> {
    return this.#call(() => this.#claim.immediate(topic, epoch));
  }

  async append(batches: readonly TopicBatch[]): Promise<boolean[]> {
    return this.#call(() => this.#append.immediate(batches));
  }

  /** Written behind the journal, the commit's WAL fsync stays off the event loop: `sync` does it, rarely. */
  async appendUnsynced(batches: readonly TopicBatch[]): Promise<boolean[]> {
    this.#checkOpen();
    return this.#db.callUnsynced(() => this.#append.immediate(batches));
  }

  async sync(): Promise<void> {
    this.#checkOpen();
    await this.#db.syncWal();
  }

  async read(topic: string, fromSeq: number, limit: ReadLimit): Promise<LogRecord[]> {
    return this.#call(() => {
      const out: LogRecord[] = [];
      let bytes = 0;
      // Iterate rather than LIMIT in SQL: maxBytes may stop the scan long before maxRecords.
      for (const row of this.#read.iterate(topic, fromSeq)) {
        out.push(toRecord(row));
        bytes += row[3].length;
        if (out.length >= limit.maxRecords || bytes >= limit.maxBytes) break;
      }
      return out;
    });
  }

  async trim(topic: string, throughSeq: number, epoch?: number): Promise<number> {
    return this.#call(() => this.#trim.immediate(topic, throughSeq, epoch));
  }

  async lastSeqBefore(topic: string, beforeMs: number): Promise<number> {
    return this.#call(() => {
      return this.#lastSeqBefore.get(topic, beforeMs) ?? 0;
    });
  }

  async bounds(topic: string): Promise<TopicBounds | undefined> {
    return this.#call(() => {
      const row = this.#bounds.get(topic);
      return row === undefined ? undefined : toBounds(row);
    });
  }

  async topics(): Promise<TopicBounds[]> {
    return this.#call(() => this.#allBounds.all().map(toBounds));
  }

  async usage(topic: string): Promise<{ records: number; bytes: number }> {
    return this.#call(() => this.#usage.get(topic)!);
  }

  async producers(topic: string, limit: number): Promise<ProducerState[]> {
    return this.#call(() => this.#producers.all(topic, limit));
  }

  async pruneProducers(topic: string, prune: ProducerPrune): Promise<number> {
    return this.#call(() => this.#pruneProducers.run(topic, prune.usedBefore, topic, prune.keep).changes);
  }

  async producerRecords(topic: string, producerId: string, fromSeq: number, toSeq: number): Promise<ProducerRecord[]> {
    return this.#call(() => this.#producerRecords.all(topic, fromSeq, toSeq, producerId));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.release();
  }

  #call<T>(fn: () => T): T {
    this.#checkOpen();
    return this.#db.call(fn);
  }

  #checkOpen(): void {
    if (this.#closed) throw new CorralError('STORE_UNAVAILABLE', 'the message log is closed');
  }
}
