import { CorralError } from '../../protocol/corral-error.js';
import type { LogRecord, MessageLog, ProducerPrune, ProducerRecord, ProducerState, ReadLimit, TopicBatch, TopicBounds } from '../message-log.js';
import { type PostgresQueryable } from './postgres-connection.js';
import { PG_ARRAY } from './postgres-array-types.js';
import type { PostgresPool } from './postgres-pool.js';

interface TopicRow {
  name: string;
  epoch: number;
  first_seq: number;
  last_seq: number;
}

interface RecordRow {
  seq: number;
  ts: number;
  key: Buffer | null;
  payload: Buffer;
  producer_id: string | null;
  producer_seq: number;
}

/**
 * Payload bytes sent in one call of corral_append. The driver sends bytea as
 * hex text, twice the size, and one protocol message must stay well inside
 * what a string and the server accept; a larger append is split at batch
 * boundaries into several calls inside one transaction.
 */
const MAX_CALL_PAYLOAD_BYTES = 32 * 1024 * 1024;

function toBounds(row: TopicRow): TopicBounds {
  return { topic: row.name, firstSeq: row.first_seq, lastSeq: row.last_seq, epoch: row.epoch };
}

function toRecord(row: RecordRow): LogRecord {
  return {
    seq: row.seq,
    timestamp: row.ts,
    key: row.key ?? undefined,
    payload: row.payload,
    producerId: row.producer_id ?? undefined,
    producerSeq: row.producer_seq,
  };
}

/** A batch whose seqs do not count up by one is a bug in the caller; it never reaches the database. */
function checkConsecutive(batch: TopicBatch): void {
  const first = batch.records[0]?.seq ?? 0;
  batch.records.forEach((r, i) => {
    if (r.seq !== first + i) {
      throw new CorralError('INTERNAL', `batch for topic ${batch.topic} has seq ${r.seq} at position ${i}, expected ${first + i}`);
    }
  });
}

/** Splits batches into calls of at most MAX_CALL_PAYLOAD_BYTES (a bigger batch goes alone). */
function splitCalls(batches: readonly TopicBatch[]): TopicBatch[][] {
  const calls: TopicBatch[][] = [];
  let current: TopicBatch[] = [];
  let bytes = 0;
  for (const b of batches) {
    const size = b.records.reduce((n, r) => n + r.payload.length + (r.key?.length ?? 0), 0);
    if (current.length > 0 && bytes + size > MAX_CALL_PAYLOAD_BYTES) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(b);
    bytes += size;
  }
  calls.push(current);
  return calls;
}

/**
 * MessageLog on PostgreSQL (schema: migration 002). An append is one call of
 * corral_append: one round trip and one transaction for every topic of a
 * group commit, the records passed as arrays and inserted with one
 * multi-row INSERT.
 */
export class PostgresMessageLog implements MessageLog {
  constructor(
    private readonly pool: PostgresPool,
    /** Appends in flight at once, each on a connection of its own; the pool's other connections serve reads and trims. */
    readonly appendConcurrency = 1,
  ) {}

  claim(topic: string, epoch: number): Promise<TopicBounds> {
    return this.pool.guard(async () => {
      const row = await this.pool.sql.begin(async (tx) => {
        // A claim is durable whatever the log's durability: an ownership
        // change lost in a database crash would let two hubs write under
        // epochs they both believe current.
        await tx`SET LOCAL synchronous_commit = on`;
        // The upsert locks the topic row, so it waits for an append holding
        // it, and every later append sees the new epoch.
        const rows = await tx<TopicRow[]>`
          INSERT INTO corral_topics AS t (name, epoch) VALUES (${topic}, ${epoch})
          ON CONFLICT (name) DO UPDATE SET epoch = excluded.epoch WHERE t.epoch <= excluded.epoch
          RETURNING name, epoch, first_seq, last_seq`;
        return rows[0];
      });
      if (row === undefined) throw new CorralError('FENCED', `topic ${topic} is claimed with an epoch higher than ${epoch}`);
      return toBounds(row);
    });
  }

  append(batches: readonly TopicBatch[]): Promise<boolean[]> {
    if (batches.length === 0) return Promise.resolve([]);
    return this.pool.guard(async () => {
      batches.forEach(checkConsecutive);
      const calls = splitCalls(batches);
      if (calls.length === 1) return this.callAppend(this.pool.sql, batches);
      return this.pool.sql.begin(async (tx) => {
        const stored: boolean[] = [];
        for (const call of calls) stored.push(...await this.callAppend(tx, call));
        return stored;
      });
    });
  }

  private async callAppend(sql: PostgresQueryable, batches: readonly TopicBatch[]): Promise<boolean[]> {
    const topics: string[] = [];
    const epochs: number[] = [];
    const firstSeqs: Array<number | null> = [];
    const counts: number[] = [];
    const batchOf: number[] = [];
    const seqs: number[] = [];
    const timestamps: number[] = [];
    const keys: Array<Buffer | null> = [];
    const payloads: Buffer[] = [];
    const producerIds: Array<string | null> = [];
    const producerSeqs: number[] = [];
    batches.forEach((b, i) => {
      topics.push(b.topic);
      epochs.push(b.epoch);
      firstSeqs.push(b.records[0]?.seq ?? null);
      counts.push(b.records.length);
      for (const r of b.records) {
        batchOf.push(i + 1);
        seqs.push(r.seq);
        timestamps.push(r.timestamp);
        keys.push(r.key ?? null);
        payloads.push(r.payload);
        producerIds.push(r.producerId ?? null);
        producerSeqs.push(r.producerSeq);
      }
    });
    const [row] = await sql<[{ stored: boolean[] }]>`
      SELECT corral_append(
        ${sql.typed(topics, PG_ARRAY.text)}, ${sql.typed(epochs, PG_ARRAY.int8)},
        ${sql.typed(firstSeqs, PG_ARRAY.int8)}, ${sql.typed(counts, PG_ARRAY.int4)},
        ${sql.typed(batchOf, PG_ARRAY.int4)}, ${sql.typed(seqs, PG_ARRAY.int8)}, ${sql.typed(timestamps, PG_ARRAY.int8)},
        ${sql.typed(keys, PG_ARRAY.bytea)}, ${sql.typed(payloads, PG_ARRAY.bytea)},
        ${sql.typed(producerIds, PG_ARRAY.text)}, ${sql.typed(producerSeqs, PG_ARRAY.int8)}
      ) AS stored`;
    if (row === undefined || row.stored.length !== batches.length) throw new Error('corral_append returned no verdict per batch');
    return row.stored;
  }

  read(topic: string, fromSeq: number, limit: ReadLimit): Promise<LogRecord[]> {
    // The running byte count stops after the record that crosses maxBytes; the
    // first record always passes (0 bytes before it), so at least one returns.
    const maxBytes = Math.max(1, limit.maxBytes);
    return this.pool.guard(async () => {
      const rows = await this.pool.sql<RecordRow[]>`
        SELECT seq, ts, key, payload, producer_id, producer_seq FROM (
          SELECT r.seq, r.ts, r.key, r.payload, r.producer_id, r.producer_seq,
                 sum(octet_length(r.payload)) OVER (ORDER BY r.seq ROWS UNBOUNDED PRECEDING)
                   - octet_length(r.payload) AS bytes_before
            FROM corral_records AS r
            WHERE r.topic_id = (SELECT id FROM corral_topics WHERE name = ${topic}) AND r.seq >= ${fromSeq}
            ORDER BY r.seq
            LIMIT ${limit.maxRecords}
        ) AS w
        WHERE w.bytes_before < ${maxBytes}
        ORDER BY w.seq`;
      return rows.map(toRecord);
    });
  }

  trim(topic: string, throughSeq: number, epoch?: number): Promise<number> {
    if (epoch === undefined) return this.trimUnfenced(topic, throughSeq);
    return this.pool.guard(async () => {
      // Fenced, in one statement (a client-side transaction would let a hub
      // paused between its statements hold the topic row's lock against the
      // new owner's claim): the topic row is locked first, so a claim that
      // committed meanwhile is seen, and a claim waits for this trim. Appends
      // to the topic wait for the delete too; GC trims in bounded chunks.
      const [row] = await this.pool.sql<[{ deleted: number; epoch: number | null }]>`
        WITH t AS (
          SELECT id, first_seq, epoch, least(${throughSeq}::bigint, last_seq) AS bound FROM corral_topics WHERE name = ${topic} FOR UPDATE
        ), d AS (
          DELETE FROM corral_records AS r USING t
          WHERE r.topic_id = t.id AND r.seq >= t.first_seq AND r.seq <= t.bound AND t.epoch <= ${epoch}::bigint
          RETURNING 1
        ), u AS (
          UPDATE corral_topics AS c SET first_seq = t.bound + 1 FROM t
          WHERE c.id = t.id AND c.first_seq <= t.bound AND t.epoch <= ${epoch}::bigint
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM d)::int AS deleted, (SELECT epoch FROM t) AS epoch, (SELECT count(*) FROM u) AS updated`;
      if (row?.epoch != null && row.epoch > epoch) {
        throw new CorralError('FENCED', `topic ${topic} is claimed with epoch ${row.epoch}, higher than ${epoch}; nothing trimmed`);
      }
      return row?.deleted ?? 0;
    });
  }

  private trimUnfenced(topic: string, throughSeq: number): Promise<number> {
    return this.pool.guard(async () => {
      // The bound comes from the statement's snapshot and never exceeds the
      // last_seq it saw, so every record at or below it is committed and an
      // append committing meanwhile (above last_seq) is untouched. Only the
      // final UPDATE takes the topic row lock, briefly.
      const [row] = await this.pool.sql<[{ deleted: number }]>`
        WITH t AS (
          SELECT id, first_seq, least(${throughSeq}::bigint, last_seq) AS bound FROM corral_topics WHERE name = ${topic}
        ), d AS (
          DELETE FROM corral_records AS r USING t
          WHERE r.topic_id = t.id AND r.seq >= t.first_seq AND r.seq <= t.bound
          RETURNING 1
        ), u AS (
          UPDATE corral_topics AS c SET first_seq = t.bound + 1 FROM t
          WHERE c.id = t.id AND c.first_seq <= t.bound
          RETURNING 1
        )
        SELECT count(*)::int AS deleted FROM d`;
      return row?.deleted ?? 0;
    });
  }

  lastSeqBefore(topic: string, beforeMs: number): Promise<number> {
    return this.pool.guard(async () => {
      const [row] = await this.pool.sql<[{ seq: number }]>`
        SELECT coalesce(max(seq), 0) AS seq FROM corral_records
        WHERE topic_id = (SELECT id FROM corral_topics WHERE name = ${topic}) AND ts < ${beforeMs}`;
      return row?.seq ?? 0;
    });
  }

  bounds(topic: string): Promise<TopicBounds | undefined> {
    return this.pool.guard(async () => {
      const rows = await this.pool.sql<TopicRow[]>`SELECT name, epoch, first_seq, last_seq FROM corral_topics WHERE name = ${topic}`;
      const row = rows[0];
      return row === undefined ? undefined : toBounds(row);
    });
  }

  topics(): Promise<TopicBounds[]> {
    return this.pool.guard(async () => {
      const rows = await this.pool.sql<TopicRow[]>`SELECT name, epoch, first_seq, last_seq FROM corral_topics ORDER BY name`;
      return rows.map(toBounds);
    });
  }

  usage(topic: string): Promise<{ records: number; bytes: number }> {
    return this.pool.guard(async () => {
      const [row] = await this.pool.sql<[{ records: number; bytes: number }]>`
        SELECT count(*) AS records, coalesce(sum(octet_length(payload)), 0)::bigint AS bytes FROM corral_records
        WHERE topic_id = (SELECT id FROM corral_topics WHERE name = ${topic})`;
      return { records: row?.records ?? 0, bytes: row?.bytes ?? 0 };
    });
  }

  producers(topic: string, limit: number): Promise<ProducerState[]> {
    return this.pool.guard(async () => {
      // Sorts the topic's producer rows (no index: pruning keeps them few).
      const rows = await this.pool.sql<Array<{ producer_id: string; producer_seq: number; seq: number; last_used: number }>>`
        SELECT producer_id, producer_seq, seq, last_used FROM corral_producers
        WHERE topic_id = (SELECT id FROM corral_topics WHERE name = ${topic})
        ORDER BY seq DESC
        LIMIT ${limit}`;
      return rows.map((r) => ({ producerId: r.producer_id, producerSeq: r.producer_seq, seq: r.seq, lastUsedMs: r.last_used }));
    });
  }

  pruneProducers(topic: string, prune: ProducerPrune): Promise<number> {
    return this.pool.guard(async () => {
      const [row] = await this.pool.sql<[{ deleted: number }]>`
        WITH t AS (SELECT id FROM corral_topics WHERE name = ${topic}),
        kept AS (
          SELECT p.producer_id FROM corral_producers AS p, t WHERE p.topic_id = t.id
          ORDER BY p.seq DESC LIMIT ${prune.keep}
        ), d AS (
          DELETE FROM corral_producers AS p USING t
          WHERE p.topic_id = t.id
            AND (p.last_used < ${prune.usedBefore} OR p.producer_id NOT IN (SELECT producer_id FROM kept))
          RETURNING 1
        )
        SELECT count(*)::int AS deleted FROM d`;
      return row?.deleted ?? 0;
    });
  }

  producerRecords(topic: string, producerId: string, fromSeq: number, toSeq: number): Promise<ProducerRecord[]> {
    return this.pool.guard(async () => {
      // A range of the primary key: bounded by toSeq - fromSeq, whatever the topic holds.
      const rows = await this.pool.sql<Array<{ seq: number; producer_seq: number }>>`
        SELECT seq, producer_seq FROM corral_records
        WHERE topic_id = (SELECT id FROM corral_topics WHERE name = ${topic})
          AND seq >= ${fromSeq} AND seq <= ${toSeq} AND producer_id = ${producerId}
        ORDER BY seq`;
      return rows.map((r) => ({ seq: r.seq, producerSeq: r.producer_seq }));
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
