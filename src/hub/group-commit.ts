import { CorralError } from '../protocol/corral-error.js';
import type { MessageLog, TopicBatch } from '../store/message-log.js';
import type { HubMetrics } from './hub-metrics.js';
import type { PublishWaiter, Topic } from './topic.js';

export interface CommitListener {
  /** The topic's records up to committedSeq are durable: deliver them. */
  committed(topic: Topic): void;
  /** The store refused or failed the topic's batch; the topic must be reloaded. */
  failed(topic: Topic, err: CorralError): void;
}

/**
 * Group commit: every publish that arrives while its topic's commit is in
 * flight (or in the same event-loop turn) goes into the topic's next
 * transaction, and is acknowledged only after that transaction commits
 * [P-4.2]. A topic has at most one commit in flight, so its batches reach the
 * log in seq order; a log that serves several appends at once
 * (`appendConcurrency`, PostgreSQL's connections) gets that many commits over
 * disjoint sets of topics, so one round trip no longer holds every other
 * topic back.
 */
export class GroupCommitter {
  private readonly dirty = new Set<Topic>();
  /** Topics in a commit in flight: their next records wait for it. */
  private readonly committing = new Set<Topic>();
  private readonly inFlight = new Set<Promise<void>>();
  private scheduled = false;
  private readonly maxInFlight: number;

  constructor(
    private readonly log: MessageLog,
    private readonly listener: CommitListener,
    private readonly metrics: HubMetrics,
    private readonly maxRecords: number,
  ) {
    this.maxInFlight = Math.max(1, log.appendConcurrency ?? 1);
  }

  /** The topic has new pending records or waiters. */
  enqueue(topic: Topic): void {
    this.dirty.add(topic);
    if (!this.committing.has(topic)) this.schedule();
  }

  /** Resolves when every record assigned on the topic is committed (or the topic failed). */
  async settled(topic: Topic): Promise<void> {
    while (!topic.closed && topic.committedSeq < topic.lastSeq) await this.turn();
  }

  /** Resolves when nothing is pending or in flight (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0 || this.scheduled || this.dirty.size > 0) await this.turn();
  }

  /** Until a commit in flight ends, or the next turn of the event loop when none is. */
  private turn(): Promise<unknown> {
    return this.inFlight.size > 0 ? Promise.race(this.inFlight) : new Promise<void>((r) => setImmediate(r));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight.size >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    while (this.inFlight.size < this.maxInFlight) {
      const topics = this.take();
      if (topics.length === 0) return;
      const commit: Promise<void> = this.commit(topics).finally(() => {
        this.inFlight.delete(commit);
        for (const t of topics) this.committing.delete(t);
        if (this.dirty.size > 0) this.schedule();
      });
      this.inFlight.add(commit);
    }
  }

  /** Dirty topics not in a commit in flight, up to maxRecords records. */
  private take(): Topic[] {
    const topics: Topic[] = [];
    let count = 0;
    for (const t of this.dirty) {
      if (count >= this.maxRecords) break;
      if (this.committing.has(t)) continue;
      this.dirty.delete(t);
      if (t.closed) continue;
      topics.push(t);
      this.committing.add(t);
      count += t.pendingRecords.length;
    }
    return topics;
  }

  private async commit(topics: readonly Topic[]): Promise<void> {
    const batches: TopicBatch[] = [];
    const waiters: PublishWaiter[][] = [];
    let count = 0;
    for (const t of topics) {
      batches.push({ topic: t.name, epoch: t.epoch, records: t.pendingRecords });
      waiters.push(t.pendingWaiters);
      count += t.pendingRecords.length;
      t.pendingRecords = [];
      t.pendingWaiters = [];
    }
    const toStore = batches.filter((b) => b.records.length > 0);
    const started = performance.now();
    let stored: boolean[];
    try {
      stored = toStore.length > 0 ? await this.log.append(toStore) : [];
    } catch (err) {
      const e = err instanceof CorralError ? err : new CorralError('STORE_UNAVAILABLE', 'the message log failed', { cause: err });
      topics.forEach((t, i) => this.fail(t, waiters[i]!, e));
      return;
    }
    if (toStore.length > 0) {
      this.metrics.commitSeconds.observe((performance.now() - started) / 1000);
      this.metrics.commitBatchRecords.observe(count);
    }
    let j = 0;
    topics.forEach((t, i) => {
      const batch = batches[i]!;
      const ok = batch.records.length === 0 || stored[j++] === true;
      if (!ok) {
        this.fail(t, waiters[i]!, new CorralError('FENCED', `topic ${t.name} is owned with a newer epoch; nothing was stored`));
        return;
      }
      const last = batch.records[batch.records.length - 1];
      if (last) {
        t.committedSeq = last.seq;
        // The tail serves attached subscribers at the head; with none, the
        // store serves whoever attaches later, and memory stays free.
        if (t.hasAttached()) t.tail.append(batch.records);
        else t.tail.clear();
        this.metrics.publishes.inc(batch.records.length);
        this.metrics.publishedTotal += batch.records.length;
      }
      for (const w of waiters[i]!) w.target.publishAcked(w.corr, w.seq, w.duplicate, w.bytes);
      this.listener.committed(t);
    });
  }

  private fail(t: Topic, waiters: PublishWaiter[], err: CorralError): void {
    // Seqs were assigned to records that are not stored: everything queued
    // behind them on this topic is void too.
    const queued = t.pendingWaiters;
    t.pendingRecords = [];
    t.pendingWaiters = [];
    this.dirty.delete(t);
    for (const w of waiters) w.target.publishFailed(w.corr, err, w.bytes);
    for (const w of queued) w.target.publishFailed(w.corr, err, w.bytes);
    this.listener.failed(t, err);
  }
}
