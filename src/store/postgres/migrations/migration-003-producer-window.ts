import type { PostgresMigration } from './postgres-migration.js';

/**
 * Migration 003: a bounded de-duplication window
 * (docs/decisions/producer-dedup.md).
 *
 * - `corral_producers.last_used`: the timestamp of the producer's newest
 *   stored record. A producer's state expires when it has not been used for
 *   the hub's idle time, and only the most recently used ones are kept per
 *   topic (`MessageLog.pruneProducers`). No index by last use: a topic's rows
 *   are bounded by pruning, and an index would cost every append a write.
 *   Existing rows count as used when their record was stored, or now when it
 *   was trimmed, so an upgrade forgets no producer before the idle time.
 * - `corral_records_producer` is dropped: a retried publish is matched by a
 *   bounded range of the primary key (`producerRecords`), and the index cost
 *   every append with a producer a second B-tree write.
 * - `corral_append(...)`: as in migration 002, and its producer upsert also
 *   writes `last_used`. A released migration is never edited, so the whole
 *   function is restated here.
 */
export const migration003ProducerWindow: PostgresMigration = {
  version: 3,
  name: 'producer window',
  sql: `
ALTER TABLE corral_producers ADD COLUMN last_used bigint NOT NULL DEFAULT 0;
UPDATE corral_producers AS p SET last_used = coalesce(
  (SELECT r.ts FROM corral_records AS r WHERE r.topic_id = p.topic_id AND r.seq = p.seq), corral_now_ms());
DROP INDEX corral_records_producer;

-- corral_append: stores several topics' batches in the caller's transaction.
--
-- Inputs, one element per batch, in call order:
--   p_topics      topic name (the topic must have been claimed)
--   p_epochs      the writer epoch the batch was written under
--   p_first_seqs  seq of the batch's first record (NULL for an empty batch)
--   p_counts      number of records in the batch
-- Inputs, one element per record, batches concatenated in call order, the
-- records of a batch consecutive (first_seq, first_seq + 1, …: checked by the
-- caller):
--   p_batches     1-based index of the record's batch
--   p_seqs, p_timestamps, p_keys (NULL = no key), p_payloads,
--   p_producer_ids (NULL = none), p_producer_seqs
-- Output: boolean[], per batch: true = stored; false = fenced (the topic's
--   epoch is higher than the batch's): nothing of that batch is stored, the
--   other batches are.
-- Errors (the whole call stores nothing):
--   CR002  a batch names a topic that was never claimed
--   CR001  a stored batch does not continue its topic: its first seq is not
--          last_seq + 1, counting the earlier batches of the same call
-- Topic rows are locked in name order, so concurrent appends and claims
-- never deadlock. Two statements in all: each costs a planning and an
-- executor start, which dominate a small append.
CREATE OR REPLACE FUNCTION corral_append(
  p_topics text[], p_epochs bigint[], p_first_seqs bigint[], p_counts int[],
  p_batches int[], p_seqs bigint[], p_timestamps bigint[], p_keys bytea[], p_payloads bytea[],
  p_producer_ids text[], p_producer_seqs bigint[]
) RETURNS boolean[]
LANGUAGE plpgsql
AS $$
DECLARE
  v_ids bigint[];
  v_stored boolean[];
  v_unclaimed int;
  v_gap int;
  v_expected bigint;
BEGIN
  WITH t AS MATERIALIZED (
    SELECT id, name, epoch, last_seq FROM corral_topics WHERE name = ANY (p_topics) ORDER BY name FOR UPDATE
  ), b AS (
    SELECT b.i, b.first_seq, b.n, t.id, t.last_seq, coalesce(b.epoch >= t.epoch, false) AS stored
      FROM unnest(p_topics, p_epochs, p_first_seqs, p_counts) WITH ORDINALITY AS b(topic, epoch, first_seq, n, i)
      LEFT JOIN t ON t.name = b.topic
  ), c AS (
    SELECT b.i, b.first_seq,
           b.last_seq + 1 + coalesce(sum(b.n) OVER (PARTITION BY b.id ORDER BY b.i
             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS expected
      FROM b WHERE b.stored
  ), gap AS (
    SELECT c.i, c.expected FROM c WHERE c.first_seq <> c.expected ORDER BY c.i LIMIT 1
  )
  SELECT (SELECT array_agg(b.id ORDER BY b.i) FROM b),
         (SELECT array_agg(b.stored ORDER BY b.i) FROM b),
         (SELECT min(b.i) FROM b WHERE b.id IS NULL),
         (SELECT gap.i FROM gap),
         (SELECT gap.expected FROM gap)
    INTO v_ids, v_stored, v_unclaimed, v_gap, v_expected;
  IF v_unclaimed IS NOT NULL THEN
    RAISE EXCEPTION 'topic % was never claimed', p_topics[v_unclaimed] USING ERRCODE = 'CR002';
  END IF;
  IF v_gap IS NOT NULL THEN
    RAISE EXCEPTION 'batch % of topic % starts at seq %, expected %',
      v_gap, p_topics[v_gap], p_first_seqs[v_gap], v_expected USING ERRCODE = 'CR001';
  END IF;

  -- Records, the topics' last_seq and the producer state, in one statement.
  WITH records AS (
    INSERT INTO corral_records (topic_id, seq, ts, key, payload, producer_id, producer_seq)
    SELECT v_ids[r.b], r.seq, r.ts, r.key, r.payload, r.producer_id, r.producer_seq
      FROM unnest(p_batches, p_seqs, p_timestamps, p_keys, p_payloads, p_producer_ids, p_producer_seqs)
        AS r(b, seq, ts, key, payload, producer_id, producer_seq)
      WHERE v_stored[r.b]
  ), bounds AS (
    UPDATE corral_topics AS t SET last_seq = s.last_seq
      FROM (
        SELECT v_ids[b.i] AS id, max(b.first_seq + b.n - 1) AS last_seq
          FROM unnest(p_first_seqs, p_counts) WITH ORDINALITY AS b(first_seq, n, i)
          WHERE v_stored[b.i] AND b.n > 0
          GROUP BY 1
      ) AS s
      WHERE t.id = s.id
  )
  -- Highest producer seq per producer, with that record's time as the
  -- producer's last use; on a tie the earliest record, as if the records had
  -- been stored one by one.
  INSERT INTO corral_producers AS p (topic_id, producer_id, producer_seq, seq, last_used)
  SELECT DISTINCT ON (v_ids[r.b], r.producer_id) v_ids[r.b], r.producer_id, r.producer_seq, r.seq, r.ts
    FROM unnest(p_batches, p_producer_ids, p_producer_seqs, p_seqs, p_timestamps) AS r(b, producer_id, producer_seq, seq, ts)
    WHERE v_stored[r.b] AND r.producer_id IS NOT NULL
    ORDER BY v_ids[r.b], r.producer_id, r.producer_seq DESC, r.seq
  ON CONFLICT (topic_id, producer_id) DO UPDATE
    SET producer_seq = excluded.producer_seq, seq = excluded.seq, last_used = excluded.last_used
    WHERE excluded.producer_seq > p.producer_seq;

  RETURN v_stored;
END
$$;
`,
};
