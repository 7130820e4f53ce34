/**
 * The per-topic ordered message log (seed 002's "message store").
 *
 * Sequence numbers are assigned by the topic's owner hub, start at 1 and grow
 * by one per message without gaps; the log refuses a sequence that is not
 * lastSeq + 1. Every topic carries a writer epoch: `claim` raises it and
 * `append` refuses a batch whose epoch is older, so a hub that lost ownership
 * (paused, partitioned) cannot write a single message after the new owner
 * claimed the topic.
 */
export interface LogRecord {
  seq: number;
  /** Publish time, ms since epoch, stamped by the owner hub. */
  timestamp: number;
  key: Buffer | undefined;
  payload: Buffer;
  /** Set when the publisher asked for de-duplication of retries. */
  producerId: string | undefined;
  producerSeq: number;
}

export interface TopicBatch {
  topic: string;
  /** The writer epoch the owner claimed the topic with. */
  epoch: number;
  /** In sequence order, first.seq === lastSeq + 1, no gaps. */
  records: LogRecord[];
}

export interface TopicBounds {
  topic: string;
  /** Lowest stored seq; lastSeq + 1 when nothing is stored. */
  firstSeq: number;
  /** Highest seq ever appended (survives trimming); 0 for a new topic. */
  lastSeq: number;
  /** Current writer epoch (0 before the first claim). */
  epoch: number;
}

export interface ProducerState {
  producerId: string;
  /** Highest producer sequence stored for this producer on this topic. */
  producerSeq: number;
  /** The topic seq that message got. */
  seq: number;
  /** Timestamp of the producer's newest stored record (ms since epoch): when it was last used. */
  lastUsedMs: number;
}

/** One stored record of a producer, as a retried publish is matched against it. */
export interface ProducerRecord {
  seq: number;
  producerSeq: number;
}

/** Which producer state `pruneProducers` removes [P-4.4]. */
export interface ProducerPrune {
  /** Producers last used before this time (ms since epoch) are removed… */
  usedBefore: number;
  /** …and of the others, all but the `keep` most recently used (highest seq). */
  keep: number;
}

export interface ReadLimit {
  maxRecords: number;
  /** Stop after the record that crosses this many payload bytes (at least one record is returned). */
  maxBytes: number;
}

export interface MessageLog {
  /**
   * Raises the topic's writer epoch to `epoch` and returns its bounds. Fails
   * with CorralError FENCED when the current epoch is already higher.
   * Creates the topic if new.
   */
  claim(topic: string, epoch: number): Promise<TopicBounds>;
  /**
   * Appends several topics' batches durably, in one transaction where the
   * backend allows. Returns, per batch in order, true if stored or false if
   * refused because the topic's epoch is higher than the batch's (fenced);
   * a fenced batch stores nothing and does not stop the others.
   * A sequence gap or overlap throws (a bug in the caller, never ignored).
   */
  append(batches: readonly TopicBatch[]): Promise<boolean[]>;
  /**
   * How many appends over disjoint sets of topics the log serves at once to
   * advantage (a connection each); absent: 1. A caller never has two appends
   * of one topic in flight.
   */
  readonly appendConcurrency?: number;
  /**
   * For a log written behind a journal, which keeps every record until
   * `sync` has run: `append` without waiting for the disk (the records
   * survive a crash of the process, not yet a power loss). Absent: the
   * journal writes behind with `append`.
   */
  appendUnsynced?(batches: readonly TopicBatch[]): Promise<boolean[]>;
  /** Resolves once every `appendUnsynced` so far would survive a power loss. */
  sync?(): Promise<void>;
  /** Records with seq >= fromSeq in order, within the limit. */
  read(topic: string, fromSeq: number, limit: ReadLimit): Promise<LogRecord[]>;
  /**
   * Deletes records with seq <= throughSeq. Returns how many were deleted.
   * With `epoch`, fenced like append: when the topic's epoch is higher (a
   * newer owner claimed it) nothing is deleted and it fails with CorralError
   * FENCED, even when the claim commits while the trim runs.
   */
  trim(topic: string, throughSeq: number, epoch?: number): Promise<number>;
  /** Highest seq whose timestamp is < beforeMs, or 0 (for retention by age). */
  lastSeqBefore(topic: string, beforeMs: number): Promise<number>;
  bounds(topic: string): Promise<TopicBounds | undefined>;
  /** Every topic the log knows, in name order. */
  topics(): Promise<TopicBounds[]>;
  /** Stored record count and payload bytes of a topic (for stats; may scan). */
  usage(topic: string): Promise<{ records: number; bytes: number }>;
  /**
   * Last stored producer sequence of the `limit` most recently used producers
   * of the topic, most recent (highest seq: a topic's seqs order its
   * publishes, whatever the owners' clocks say) first. Kept when the
   * records are trimmed, so de-duplication outlives garbage collection; only
   * `pruneProducers` removes it. Reads at most the topic's producer rows,
   * which pruning bounds.
   */
  producers(topic: string, limit: number): Promise<ProducerState[]>;
  /**
   * Removes the state of the topic's producers that are expired or past the
   * cap (see ProducerPrune).
   * Returns how many were removed.
   */
  pruneProducers(topic: string, prune: ProducerPrune): Promise<number>;
  /**
   * The stored records of one producer with fromSeq <= seq <= toSeq, in seq
   * order: a range of the topic's primary key, so its cost is bounded by the
   * range whatever the topic holds (no index by producer: it would cost every
   * append a second B-tree write).
   */
  producerRecords(topic: string, producerId: string, fromSeq: number, toSeq: number): Promise<ProducerRecord[]>;
  close(): Promise<void>;
}
