import type { Logger } from 'pino';
import { CorralError } from '../../protocol/corral-error.js';
import type { LogRecord, MessageLog, ProducerPrune, ProducerRecord, ProducerState, ReadLimit, TopicBatch, TopicBounds } from '../message-log.js';
import type { Durability } from '../stores.js';
import { encodeEntry, type JournalEntry } from './journal-entry.js';
import { JournalSegments, type JournalSpan } from './journal-segments.js';
import { InlineWriteBehind, replayEntries, type WriteBehind } from './write-behind.js';

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
  /**
   * How the store behind is written (default: through `inner` on the calling
   * thread). Made once the journal has been replayed into `inner`.
   */
  writeBehind?: (inner: MessageLog) => WriteBehind;
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
 * The ack path of a standalone hub: `append` writes every topic's batch of a
 * group commit as one journal entry (one sequential write, one fdatasync,
 * both off the event loop) and resolves; the per-topic store behind (SQLite)
 * is written in large batches a moment later. Reads see journaled records
 * the store does not hold yet. After a crash, `open` replays the journal
 * into the store; a torn last entry is cut, never misread.
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
   * Where the journaled entries whose records are in the pending lists lie
   * (adjacent entries merged): what the next write-behind hands over.
   * Pushed in the same turn as their records, so the two always match.
   */
  #unwritten: JournalSpan[] = [];
  /** Id of the last entry in #unwritten (or handed over). */
  #journaledEntryId: number;
  /** Highest entry id whose records the store behind holds. */
  #heldEntryId: number;
  /** Highest entry id the store behind holds as durably as the journal: the journal may delete up to it. */
  #durableEntryId: number;
  #flushing: Promise<void> | undefined;
  /** The journal write in progress: its records are in neither the pending lists nor the store yet. */
  #writing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #flushIntervalMs: number;
  readonly #flushRecords: number;

  private constructor(
    private readonly inner: MessageLog,
    private readonly journal: JournalSegments,
    private readonly writeBehind: WriteBehind,
    lastEntryId: number,
    opts: JournaledLogOptions,
  ) {
    this.#lastEntryId = lastEntryId;
    this.#journaledEntryId = lastEntryId;
    this.#heldEntryId = lastEntryId;
    this.#durableEntryId = lastEntryId;
    this.#flushIntervalMs = opts.flushIntervalMs ?? 50;
    this.#flushRecords = opts.flushRecords ?? 20_000;
  }

  /** Opens the journal in front of `inner`, replaying what a crash left in it. */
  static async open(inner: MessageLog, opts: JournaledLogOptions): Promise<JournaledLog> {
    const { journal, contents, lastEntryId } = await JournalSegments.open(opts.dir, opts.durability, opts.segmentBytes ?? 64 * 1024 * 1024);
    if (contents.cut) opts.logger?.warn(contents.cut, 'journal: cut a torn last entry (never acknowledged)');
    // Through `inner`, whose commits are as durable as the journal: the
    // replayed entries are retired right after.
    const replayed = await replayEntries(inner, contents.entries);
    if (contents.entries.length > 0) opts.logger?.info({ entries: contents.entries.length, records: replayed }, 'journal replayed into the store');
    await journal.retire(lastEntryId);
    const writeBehind = opts.writeBehind?.(inner) ?? new InlineWriteBehind(inner);
    return new JournaledLog(inner, journal, writeBehind, lastEntryId, opts);
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
    this.#writing = write.then(() => undefined, () => undefined);
    this.#addUnwritten(await write);
    this.#journaledEntryId = entry.entryId;
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
      if (this.#durableEntryId < this.#heldEntryId) {
        await this.writeBehind.write([], true);
        this.#durableEntryId = this.#heldEntryId;
      }
      held = this.#pendingRecords === 0;
    } catch {
      // Kept in the journal: the next start replays it.
    }
    await this.journal.close(held);
    await this.writeBehind.close();
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
    this.#flushing ??= this.#writeBehind().finally(() => {
      this.#flushing = undefined;
      if (this.#pendingRecords > 0) this.#scheduleFlush();
    });
    return this.#flushing;
  }

  #addUnwritten(span: JournalSpan): void {
    const last = this.#unwritten[this.#unwritten.length - 1];
    if (last && last.path === span.path && last.offset + last.length === span.offset) last.length += span.length;
    else this.#unwritten.push(span);
  }

  async #writeBehind(): Promise<void> {
    const spans = this.#unwritten;
    const upTo = this.#journaledEntryId;
    this.#unwritten = [];
    const taken: Array<{ topic: string; state: TopicState; count: number }> = [];
    for (const topic of this.#dirty) {
      const state = this.#topics.get(topic)!;
      if (state.pending.length > 0) taken.push({ topic, state, count: state.pending.length });
    }
    this.#dirty.clear();
    // The journal deletes a sealed segment only once the store holds it as
    // durably as the journal did; until then the store may lag (a crash
    // replays the journal into it).
    const durable = this.#closed || this.journal.retirable(upTo);
    if (spans.length > 0 || (durable && this.#durableEntryId < upTo)) {
      try {
        await this.writeBehind.write(spans, durable);
      } catch (err) {
        // Handed over again with what came since; records the store already
        // holds are skipped there.
        this.#unwritten = spans.concat(this.#unwritten);
        for (const t of taken) this.#dirty.add(t.topic);
        await new Promise((r) => setTimeout(r, RETRY_FLUSH_MS));
        throw err;
      }
    }
    for (const { topic, state, count } of taken) {
      state.pending = state.pending.slice(count);
      if (state.pending.length > 0) this.#dirty.add(topic);
      this.#pendingRecords -= count;
    }
    this.#heldEntryId = upTo;
    if (durable) this.#durableEntryId = upTo;
    await this.journal.retire(this.#durableEntryId);
  }

  #checkOpen(allowClosing = false): void {
    if (this.#closed && !allowClosing) throw new CorralError('STORE_UNAVAILABLE', 'the message log is closed');
  }
}

