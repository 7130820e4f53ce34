import type { ProducerRecord } from '../store/message-log.js';

/** Runs a window keeps as publishes come in; a lookup in the store may bring more for a while. */
const MAX_RUNS = 32;
/** Runs a window keeps after a lookup in the store extended it backwards. */
const MAX_RUNS_EXTENDED = 1024;
/** Numbers per run in `runs`: first producer seq, its topic seq, length. */
const RUN = 3;

/** What one producer's window knows of a retried publish's original [P-4.4]. */
export type OriginalLookup =
  | { kind: 'found'; seq: number }
  /** Inside the window, and no stored record of the producer has this producer seq. */
  | { kind: 'absent' }
  /** Older than the window: the original, if stored, has a seq below `belowSeq`. */
  | { kind: 'older'; belowSeq: number };

/**
 * The recent producerSeq → seq mappings of one producer on one topic, as
 * run-length runs: consecutive producer seqs usually got consecutive seqs (a
 * client's pipeline lands in one group commit), so a run of any length costs
 * three numbers. Every record of the producer with seq >= `knownFromSeq` is
 * in a run; older ones are in the store (docs/decisions/producer-dedup.md).
 */
export class ProducerWindow {
  /** Oldest run first. */
  private runs: number[];
  /** Lowest seq from which on every record of the producer is in `runs`. */
  private knownFromSeq: number;
  /** Last time (ms, hub clock) the producer published a new message. */
  lastUsedMs: number;
  /** A lookup in the store that extends the window backwards, while it runs. */
  extending: Promise<void> | undefined;

  constructor(producerSeq: number, seq: number, lastUsedMs: number) {
    this.runs = [producerSeq, seq, 1];
    this.knownFromSeq = seq;
    this.lastUsedMs = lastUsedMs;
  }

  /** Highest producer seq stored or being stored. */
  get latestProducerSeq(): number {
    const n = this.runs.length;
    return this.runs[n - RUN]! + this.runs[n - 1]! - 1;
  }

  /** The seq the latest producer seq got. */
  get latestSeq(): number {
    const n = this.runs.length;
    return this.runs[n - RUN + 1]! + this.runs[n - 1]! - 1;
  }

  /** Lowest seq the window answers for; older records are looked up in the store. */
  get oldestKnownSeq(): number {
    return this.knownFromSeq;
  }

  /** A new message of the producer: producerSeq above latestProducerSeq, seq above latestSeq. */
  add(producerSeq: number, seq: number): void {
    const n = this.runs.length;
    const len = this.runs[n - 1]!;
    if (producerSeq === this.runs[n - RUN]! + len && seq === this.runs[n - RUN + 1]! + len) {
      this.runs[n - 1] = len + 1;
      return;
    }
    this.runs.push(producerSeq, seq, 1);
    if (this.runs.length > MAX_RUNS * RUN) this.dropOldest(this.runs.length / RUN - MAX_RUNS);
  }

  find(producerSeq: number): OriginalLookup {
    const runs = this.runs;
    if (producerSeq < runs[0]!) return { kind: 'older', belowSeq: this.knownFromSeq };
    // Newest first: a retry is usually of a recent publish.
    for (let i = runs.length - RUN; i >= 0; i -= RUN) {
      const first = runs[i]!;
      if (producerSeq >= first) {
        return producerSeq < first + runs[i + 2]! ? { kind: 'found', seq: runs[i + 1]! + producerSeq - first } : { kind: 'absent' };
      }
    }
    return { kind: 'absent' };
  }

  /**
   * The producer's stored records with fromSeq <= seq < oldestKnownSeq, in seq
   * order, from the store: the window now answers from fromSeq on. Ignored
   * when the window moved meanwhile (`toSeq` no longer meets it).
   */
  extendBack(records: readonly ProducerRecord[], fromSeq: number, toSeq: number): void {
    if (toSeq !== this.knownFromSeq - 1) return;
    const older: number[] = [];
    for (const r of records) {
      // Producer seqs of stored records grow with their seqs; anything else is not ours to trust.
      if (r.producerSeq >= this.runs[0]!) break;
      const n = older.length;
      if (n > 0 && r.producerSeq === older[n - RUN]! + older[n - 1]! && r.seq === older[n - RUN + 1]! + older[n - 1]!) older[n - 1] = older[n - 1]! + 1;
      else older.push(r.producerSeq, r.seq, 1);
    }
    this.runs = [...older, ...this.runs];
    this.knownFromSeq = fromSeq;
    if (this.runs.length > MAX_RUNS_EXTENDED * RUN) this.dropOldest(this.runs.length / RUN - MAX_RUNS_EXTENDED);
  }

  private dropOldest(count: number): void {
    this.runs.splice(0, count * RUN);
    this.knownFromSeq = this.runs[1]!;
  }
}
