import type { Logger } from 'pino';
import { CorralError } from '../../protocol/corral-error.js';
import type { LogRecord, MessageLog, ProducerPrune, ProducerRecord, ProducerState, ReadLimit, TopicBatch, TopicBounds } from '../message-log.js';
import type { Durability } from '../stores.js';
import { encodeEntry, type JournalEntry } from './journal-entry.js';
import { JournalSegments } from './journal-segments.js';

export interface JournaledLogOptions {
  /** Directory of the journal's segment files. */
  dir: string;
  durability: Durability;
  /** The store behind is written at least this often while records wait (ms). */
  flushIntervalMs?: number;
  /** …and as soon as this many records wait. */
  flushRecords?: number;
  /** A segment is sealed past this size and deleted once the store holds it. */
  segmentBytes?: number;
  logger?: Logger;
}

/** A topic as the journal sees it. */
interface TopicState {
  epoch: number;
  lastSeq: number;
  /**
   * Journaled records the store behind does not hold yet, seqs
   * lastSeq - length + 1 … lastSeq. Replaced, never shortened in place, so a
   * reader holding the old array still sees every record it had.
   */
  pending: LogRecord[];
}

const RETRY_FLUSH_MS = 500;
/**
 * Records per transaction of the write behind: the driver blocks the event
 * loop while it inserts, some microseconds a record (docs/benchmarks.md).
 */
const WRITE_BEHIND_CHUNK = 1000;

/** A topic's records that one flush writes behind: the first `count` of its pending list. */
interface Due {
  topic: string;
  state: TopicState;
  count: number;
}

/**
 * The ack path of a standalone hub: `append` writes every topic's batch of a
 * group commit as one journal entry (one sequential write into the page
 * cache, then one fdatasync off the event loop) and resolves; the per-topic
 * store behind (SQLite) is written in large batches a moment later. Reads
 * see journaled records the store does not hold yet. After a crash, `open`
 * replays the journal into the store; a torn last entry is cut, never misread.
 *
 * The journal is the only writer of the store behind it: one hub per data
 * directory (its lock), so the epochs it checks in memory are the store's.
 */
export class JournaledLog implements MessageLog {
  readonly #topics = new Map<string, TopicState>();
  readonly #dirty = new Set<string>();
  #pendingRecords = 0;
  #lastEntryId: number;
  /**
   * Highest entry id whose records are in the pending lists. An entry
   * numbered after it is being written or waits for its fdatasync.
   */
  #pendingThrough: number;
  /** Highest entry id whose records the store behind holds. */
  #heldEntryId: number;
  #flushing: Promise<void> | undefined;
  /** The journal write in progress: its records are in neither the pending lists nor the store yet. */
  #writing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #flushIntervalMs: number;
  readonly #flushRecords: number;
  readonly #logger: Logger | undefined;
  /** The write behind failed and has not succeeded since (logged once each way, not per retry). */
  #failing = false;

  private constructor(
    private readonly inner: MessageLog,
    private readonly journal: JournalSegments,
    lastEntryId: number,
    opts: JournaledLogOptions,
  ) {
    this.#lastEntryId = lastEntryId;
    this.#heldEntryId = lastEntryId;
    this.#pendingThrough = lastEntryId;
    this.#flushIntervalMs = opts.flushIntervalMs ?? 50;
    this.#flushRecords = opts.flushRecords ?? 20_000;
    this.#logger = opts.logger;
  }

  /** Opens the journal in front of `inner`, replaying what a crash left in it. */
  static async open(inner: MessageLog, opts: JournaledLogOptions): Promise<JournaledLog> {
    const { journal, contents, lastEntryId } = await JournalSegments.open(opts.dir, opts.durability, opts.segmentBytes ?? 64 * 1024 * 1024);
    if (contents.cut) opts.logger?.warn(contents.cut, 'journal: cut a torn last entry (never acknowledged)');
    const replayed = await replay(inner, contents.entries);
    if (contents.entries.length > 0) opts.logger?.info({ entries: contents.entries.length, records: replayed }, 'journal replayed into the store');
    await journal.retire(lastEntryId, () => syncBehind(inner));
    return new JournaledLog(inner, journal, lastEntryId, opts);
  }

  async claim(topic: string, epoch: number): Promise<TopicBounds> {
    await this.#flushAll();
    const bounds = await this.inner.claim(topic, epoch);
    this.#topics.set(topic, { epoch: bounds.epoch, lastSeq: bounds.lastSeq, pending: [] });
    return bounds;
  }

  async append(batches: readonly TopicBatch[]): Promise<boolean[]> {
    this.#checkOpen();
    const results: boolean[] = [];
    const accepted: Array<{ state: TopicState; batch: TopicBatch }> = [];
    const nextSeq = new Map<TopicState, number>();
    for (const b of batches) {
      const state = await this.#state(b.topic);
      if (b.epoch < state.epoch) {
        results.push(false);
        continue;
      }
      let due = nextSeq.get(state) ?? state.lastSeq + 1;
      for (const r of b.records) {
        if (r.seq !== due) throw new CorralError('INTERNAL', `append to topic ${b.topic}: seq ${r.seq} where ${due} was due`);
        due++;
      }
      nextSeq.set(state, due);
      results.push(true);
      if (b.records.length > 0) accepted.push({ state, batch: b });
    }
    if (accepted.length === 0) return results;
    const entry: JournalEntry = { entryId: ++this.#lastEntryId, batches: accepted.map((a) => a.batch) };
    const write = this.journal.append(entry.entryId, encodeEntry(entry));
    this.#writing = write.catch(() => undefined);
    await write;
    this.#pendingThrough = entry.entryId;
    for (const { state, batch } of accepted) {
      for (const r of batch.records) state.pending.push(r);
      state.lastSeq = batch.records[batch.records.length - 1]!.seq;
      this.#dirty.add(batch.topic);
      this.#pendingRecords += batch.records.length;
    }
    this.#scheduleFlush();
    return results;
  }

  async read(topic: string, fromSeq: number, limit: ReadLimit): Promise<LogRecord[]> {
    this.#checkOpen();
    // Taken before the store is read: a record flushed meanwhile is in one or the other.
    const pending = this.#topics.get(topic)?.pending ?? [];
    const firstPending = pending[0]?.seq ?? Infinity;
    const out = fromSeq < firstPending ? await this.inner.read(topic, fromSeq, limit) : [];
    let bytes = 0;
    for (const r of out) bytes += r.payload.length;
    if (out.length >= limit.maxRecords || (out.length > 0 && bytes >= limit.maxBytes)) return out;
    const next = Math.max(fromSeq, (out[out.length - 1]?.seq ?? 0) + 1);
    for (let i = Math.max(0, next - firstPending); i < pending.length; i++) {
      const r = pending[i]!;
      out.push(r);
      bytes += r.payload.length;
      if (out.length >= limit.maxRecords || bytes >= limit.maxBytes) break;
    }
    return out;
  }

  // What follows is off the hot path (topic load, GC, stats, old retries):
  // the store behind answers once it holds every journaled record.

  async trim(topic: string, throughSeq: number, epoch?: number): Promise<number> {
    await this.#flushAll();
    return this.inner.trim(topic, throughSeq, epoch);
  }

  async lastSeqBefore(topic: string, beforeMs: number): Promise<number> {
    await this.#flushAll();
    return this.inner.lastSeqBefore(topic, beforeMs);
  }

  async bounds(topic: string): Promise<TopicBounds | undefined> {
    await this.#flushAll();
    return this.inner.bounds(topic);
  }

  async topics(): Promise<TopicBounds[]> {
    await this.#flushAll();
    return this.inner.topics();
  }

  async usage(topic: string): Promise<{ records: number; bytes: number }> {
    await this.#flushAll();
    return this.inner.usage(topic);
  }

  async producers(topic: string, limit: number): Promise<ProducerState[]> {
    await this.#flushAll();
    return this.inner.producers(topic, limit);
  }

  async pruneProducers(topic: string, prune: ProducerPrune): Promise<number> {
    await this.#flushAll();
    return this.inner.pruneProducers(topic, prune);
  }

  /** Journaled records first (a retry usually follows its original closely), the store behind for the rest of the range. */
  async producerRecords(topic: string, producerId: string, fromSeq: number, toSeq: number): Promise<ProducerRecord[]> {
    this.#checkOpen();
    // Once the write that may carry the originals has finished; then, as in
    // read, the pending list is taken before the store is asked.
    await this.#writing;
    const pending = this.#topics.get(topic)?.pending ?? [];
    const firstPending = pending[0]?.seq ?? Infinity;
    const out = fromSeq < firstPending ? await this.inner.producerRecords(topic, producerId, fromSeq, Math.min(toSeq, firstPending - 1)) : [];
    for (let i = Math.max(0, fromSeq - firstPending); i < pending.length; i++) {
      const r = pending[i]!;
      if (r.seq > toSeq) break;
      if (r.producerId === producerId) out.push({ seq: r.seq, producerSeq: r.producerSeq });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    let held = false;
    try {
      await this.#flushAll();
      await syncBehind(this.inner);
      held = this.#pendingRecords === 0;
    } catch {
      // Kept in the journal: the next start replays it.
    }
    await this.journal.close(held);
    await this.inner.close();
  }

  /** Journal segments on disk (stats and tests). */
  get segmentCount(): number {
    return this.journal.segmentCount;
  }

  async #state(topic: string): Promise<TopicState> {
    const known = this.#topics.get(topic);
    if (known) return known;
    const bounds = await this.inner.bounds(topic);
    if (!bounds) throw new CorralError('INTERNAL', `append to topic ${topic}, which was never claimed`);
    // Another append may have learnt it meanwhile.
    const state = this.#topics.get(topic) ?? { epoch: bounds.epoch, lastSeq: bounds.lastSeq, pending: [] };
    this.#topics.set(topic, state);
    return state;
  }

  #scheduleFlush(): void {
    if (this.#flushing || this.#closed) return;
    if (this.#pendingRecords >= this.#flushRecords) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#flush().catch(() => undefined);
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        void this.#flush().catch(() => undefined);
      }, this.#flushIntervalMs);
    }
  }

  /** Until the store behind holds every record journaled so far. */
  async #flushAll(): Promise<void> {
    this.#checkOpen(true);
    while (this.#pendingRecords > 0 || this.#flushing) await this.#flush();
  }

  /** Writes what waits to the store behind in one call; one flush at a time. */
  #flush(): Promise<void> {
    this.#flushing ??= this.#writeBehind().then(() => this.#reportFlush(undefined), (err: unknown) => {
      this.#reportFlush(err);
      throw err;
    }).finally(() => {
      this.#flushing = undefined;
      if (this.#pendingRecords > 0) this.#scheduleFlush();
    });
    return this.#flushing;
  }

  async #writeBehind(): Promise<void> {
    // Not #lastEntryId: an entry still waiting for its fdatasync is in no
    // pending list, so this flush does not put it in the store, and the
    // segment holding it must not be deleted after it.
    const upTo = this.#pendingThrough;
    const due: Due[] = [];
    for (const topic of this.#dirty) {
      const state = this.#topics.get(topic)!;
      if (state.pending.length > 0) due.push({ topic, state, count: state.pending.length });
    }
    this.#dirty.clear();
    try {
      while (due.length > 0) {
        await this.#writeChunk(due);
        // The store's driver is synchronous: between transactions, the hub serves its clients.
        if (due.length > 0) await new Promise((r) => setImmediate(r));
      }
    } catch (err) {
      for (const d of due) this.#dirty.add(d.topic);
      await new Promise((r) => setTimeout(r, RETRY_FLUSH_MS));
      throw err;
    }
    this.#heldEntryId = upTo;
    await this.journal.retire(this.#heldEntryId, () => syncBehind(this.inner));
  }

  /**
   * One transaction of the store behind: whole topics from the head of
   * `due` (a topic is touched once per flush, however many of its records
   * wait) up to WRITE_BEHIND_CHUNK records, a topic split only when larger.
   * Removes what it wrote from `due`.
   */
  async #writeChunk(due: Due[]): Promise<void> {
    const batches: TopicBatch[] = [];
    let room = WRITE_BEHIND_CHUNK;
    for (const d of due) {
      if (room === 0 || (d.count > room && batches.length > 0)) break;
      const n = Math.min(d.count, room);
      batches.push({ topic: d.topic, epoch: d.state.epoch, records: d.state.pending.slice(0, n) });
      room -= n;
    }
    const stored = await appendBehind(this.inner, batches);
    batches.forEach((b, i) => {
      // A refusal means another writer claimed the topic in the store: impossible
      // while this hub holds the data directory's lock.
      if (!stored[i]) throw new CorralError('INTERNAL', `the store refused journaled records of topic ${b.topic} (fenced)`);
      const d = due[i]!;
      d.state.pending = d.state.pending.slice(b.records.length);
      d.count -= b.records.length;
      this.#pendingRecords -= b.records.length;
      // Records journaled since the flush began wait for the next one.
      if (d.count === 0 && d.state.pending.length > 0) this.#dirty.add(d.topic);
    });
    while (due.length > 0 && due[0]!.count === 0) due.shift();
  }

  /**
   * Acknowledged records stay safe in the journal while the store behind
   * fails, but the journal and the memory holding them grow: say so.
   */
  #reportFlush(err: unknown): void {
    if (err !== undefined && !this.#failing) {
      this.#logger?.error({ err, pendingRecords: this.#pendingRecords }, 'journal: writing behind into the store failed; retrying (acknowledged messages are kept in the journal)');
    } else if (err === undefined && this.#failing) {
      this.#logger?.info('journal: writing behind into the store works again');
    }
    this.#failing = err !== undefined;
  }

  #checkOpen(allowClosing = false): void {
    if (this.#closed && !allowClosing) throw new CorralError('STORE_UNAVAILABLE', 'the message log is closed');
  }
}

/**
 * Writes records the journal holds into the store behind: without waiting
 * for the disk where the store can, as the journal keeps them until
 * `syncBehind` has run.
 */
function appendBehind(inner: MessageLog, batches: readonly TopicBatch[]): Promise<boolean[]> {
  return inner.appendUnsynced ? inner.appendUnsynced(batches) : inner.append(batches);
}

/** Before the journal lets go of entries: the store behind holds them durably. */
async function syncBehind(inner: MessageLog): Promise<void> {
  await inner.sync?.();
}

/**
 * Applies journal entries to the store: records it holds already (seq at or
 * below its lastSeq) are skipped, so a replay after a crash mid-flush, or a
 * second replay, stores each record once.
 */
async function replay(inner: MessageLog, entries: readonly JournalEntry[]): Promise<number> {
  const known = new Map<string, TopicBounds>();
  const byTopic = new Map<string, TopicBatch>();
  for (const e of entries) {
    for (const b of e.batches) {
      let bounds = known.get(b.topic);
      if (!bounds) {
        bounds = await inner.bounds(b.topic);
        if (!bounds) throw new CorralError('STORE_UNAVAILABLE', `the journal holds records of topic ${b.topic}, which the store does not know`);
        known.set(b.topic, bounds);
      }
      const into = byTopic.get(b.topic);
      const after = into ? into.records[into.records.length - 1]!.seq : bounds.lastSeq;
      const fresh = b.records.filter((r) => r.seq > after);
      if (fresh.length === 0) continue;
      // Written by this store's only writer: its epoch is the store's.
      if (into) into.records.push(...fresh);
      else byTopic.set(b.topic, { topic: b.topic, epoch: bounds.epoch, records: fresh });
    }
  }
  const batches = [...byTopic.values()];
  if (batches.length === 0) return 0;
  const stored = await appendBehind(inner, batches);
  const refused = batches.filter((_, i) => !stored[i]).map((b) => b.topic);
  if (refused.length > 0) throw new CorralError('STORE_UNAVAILABLE', `the store refused journaled records of ${refused.join(', ')}`);
  return batches.reduce((n, b) => n + b.records.length, 0);
}
