/**
 * The schema of the embedded store, as numbered migrations. A database records
 * the number of the last one applied in `PRAGMA user_version`; migrations are
 * only ever appended, never edited once released.
 */
export interface SqliteMigration {
  readonly version: number;
  readonly sql: string;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    sql: `
-- MetadataStore entries. expires_at is the store-clock ms at which the key
-- lapses (NULL = never). A lapsed row stays until it is written again, so the
-- version carries on across the lapse.
CREATE TABLE metadata (
  key        TEXT    NOT NULL PRIMARY KEY,
  value      TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  expires_at INTEGER
) WITHOUT ROWID;

-- One row per topic: its writer epoch (fencing) and the highest seq ever
-- appended, which survives trimming. The integer id keeps message keys short.
CREATE TABLE topics (
  id       INTEGER PRIMARY KEY,
  name     TEXT    NOT NULL UNIQUE,
  epoch    INTEGER NOT NULL,
  last_seq INTEGER NOT NULL
);

-- The log itself, clustered by (topic, seq) so that reads and trims are range
-- scans. key NULL = no key (distinct from an empty key); producer_id NULL =
-- the publisher did not ask for de-duplication.
CREATE TABLE messages (
  topic_id     INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  timestamp    INTEGER NOT NULL,
  key          BLOB,
  payload      BLOB    NOT NULL,
  producer_id  TEXT,
  producer_seq INTEGER NOT NULL,
  PRIMARY KEY (topic_id, seq)
) WITHOUT ROWID;

-- findByProducer: only records of de-duplicating publishers are indexed.
CREATE INDEX messages_by_producer ON messages (topic_id, producer_id, producer_seq)
  WHERE producer_id IS NOT NULL;

-- lastSeqBefore (retention by age) without a per-record time index, which
-- would cost every append a second B-tree insert: one row per stored batch
-- with its highest seq and earliest timestamp. The latest span that starts
-- before a time bounds a short backward scan of messages for the answer,
-- whatever order the owners' clocks stamped the records in.
CREATE TABLE append_spans (
  topic_id INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  min_ts   INTEGER NOT NULL,
  PRIMARY KEY (topic_id, last_seq)
) WITHOUT ROWID;
CREATE INDEX append_spans_by_time ON append_spans (topic_id, min_ts);

-- Highest producer_seq stored per producer and topic, with the seq it got.
-- Written in the append transaction; not trimmed with the messages.
CREATE TABLE producers (
  topic_id     INTEGER NOT NULL,
  producer_id  TEXT    NOT NULL,
  producer_seq INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  PRIMARY KEY (topic_id, producer_id)
) WITHOUT ROWID;
`,
  },
  {
    version: 2,
    sql: `
-- Ephemeral keys live as long as the store session that wrote them; one
-- process holds an SQLite file, so the rows left by an earlier process are
-- removed when the store opens.
ALTER TABLE metadata ADD COLUMN ephemeral INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 3,
    sql: `
-- A group commit across many topics touches one B-tree leaf per topic in
-- every table and index it writes; measured (W4, 1,000 topics), those page
-- writes dominated the commit. The producer index and the span table cost
-- two more leaves per topic per commit for two rare reads (de-duplication
-- of an old retry, retention by age), which now scan the topic instead.
DROP INDEX messages_by_producer;
DROP INDEX append_spans_by_time;
DROP TABLE append_spans;
`,
  },
  {
    version: 4,
    sql: `
-- The de-duplication window is bounded (docs/decisions/producer-dedup.md):
-- a producer's state expires when it has not been used for the idle time,
-- and only the most recently used ones are kept per topic. last_used is the
-- timestamp of the producer's newest stored record. No index: a topic's rows
-- are bounded by pruning, and an index would cost every append a leaf write.
-- Existing rows count as used when their record was stored, or now when it
-- was trimmed, so an upgrade forgets nobody before the idle time has passed.
ALTER TABLE producers ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0;
UPDATE producers SET last_used = coalesce(
  (SELECT m.timestamp FROM messages m WHERE m.topic_id = producers.topic_id AND m.seq = producers.seq),
  CAST(strftime('%s', 'now') AS INTEGER) * 1000);
`,
  },
];

/** The schema version this build writes and understands. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.at(-1)?.version ?? 0;
