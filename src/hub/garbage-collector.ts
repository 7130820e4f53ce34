import type { Logger } from 'pino';
import { isCorralError } from '../protocol/corral-error.js';
import type { MessageLog } from '../store/message-log.js';
import type { Clock } from './clock.js';
import type { HubMetrics } from './hub-metrics.js';
import type { HubTuning } from './hub-options.js';
import type { TopicRegistry } from './topic-registry.js';
import type { Topic } from './topic.js';

/** Trim a topic at once when this much garbage gathered… */
const MIN_TRIM_RECORDS = 1000;
/** …else once it waited this many GC intervals. */
const MAX_TRIM_DELAY_INTERVALS = 10;

/**
 * Trims messages every subscription has acknowledged (seed 002: a message is
 * kept only until all its subscribers have it), unless the topic's retention
 * keeps them by count or age.
 */
export class GarbageCollector {
  private timer: NodeJS.Timeout | undefined;
  private readonly lastTrim = new WeakMap<Topic, number>();
  private readonly lastPrune = new WeakMap<Topic, number>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly topics: TopicRegistry,
    private readonly log: MessageLog,
    private readonly clock: Clock,
    private readonly metrics: HubMetrics,
    private readonly logger: Logger,
    private readonly tuning: Pick<HubTuning, 'gcIntervalMs' | 'gcTrimChunk' | 'defaultRetention' | 'producerIdleMs' | 'maxProducersPerTopic'>,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.pass()
        .catch((err: unknown) => this.logger.warn({ err }, 'garbage collection pass failed'))
        .finally(() => { this.running = undefined; });
    }, this.tuning.gcIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async idle(): Promise<void> {
    await this.running;
  }

  async pass(): Promise<void> {
    for (const t of [...this.topics.all()]) {
      if (!t.closed) await this.pruneProducers(t);
      if (t.closed || t.firstSeq > t.committedSeq) continue;
      const floor = await this.trimPoint(t);
      if (floor < t.firstSeq) continue;
      // Each trim is a transaction (an fsync): let small amounts of garbage
      // gather, so 1,000 busy topics do not cost 1,000 commits a second.
      const gathered = floor - t.firstSeq + 1;
      const waited = this.clock.now() - (this.lastTrim.get(t) ?? 0);
      if (gathered < MIN_TRIM_RECORDS && waited < MAX_TRIM_DELAY_INTERVALS * this.tuning.gcIntervalMs) continue;
      this.lastTrim.set(t, this.clock.now());
      const through = Math.min(floor, t.firstSeq + this.tuning.gcTrimChunk - 1);
      let n: number;
      try {
        // Fenced: a hub that lost the topic (paused past its lease) trims nothing the new owner needs.
        n = await this.log.trim(t.name, through, t.epoch);
      } catch (err) {
        if (!isCorralError(err, 'FENCED')) throw err;
        this.logger.warn({ topic: t.name, epoch: t.epoch }, 'trim fenced: another hub owns the topic now');
        continue;
      }
      if (t.closed) continue;
      t.firstSeq = Math.max(t.firstSeq, through + 1);
      t.tail.trimThrough(through);
      this.metrics.trimmed.inc(n);
    }
  }

  /**
   * [P-4.4] Forgets the topic's idle producers, then removes from the store
   * the rows of every producer forgotten here (idle, or evicted past the
   * cap), batched like trims: one transaction per topic at most every few
   * intervals. Not fenced: any owner would remove the same rows, and an
   * owner keeps its live producers in memory and rewrites their rows.
   */
  private async pruneProducers(t: Topic): Promise<void> {
    const now = this.clock.now();
    t.producers.expire(now);
    const forgotten = t.producers.forgotten;
    if (forgotten === 0) return;
    const waited = now - (this.lastPrune.get(t) ?? 0);
    if (forgotten < MIN_TRIM_RECORDS && waited < MAX_TRIM_DELAY_INTERVALS * this.tuning.gcIntervalMs) return;
    this.lastPrune.set(t, now);
    // A record still on its way to the log rewrites its producer's row after
    // the prune: the prune is complete only when every assigned record is in
    // the log already; otherwise it is repeated at the next chance.
    const complete = t.committedSeq >= t.lastSeq;
    t.producers.forgotten = 0;
    try {
      await this.log.pruneProducers(t.name, { usedBefore: now - this.tuning.producerIdleMs, keep: this.tuning.maxProducersPerTopic });
    } catch (err) {
      t.producers.forgotten += forgotten;
      throw err;
    }
    if (!complete) t.producers.forgotten += forgotten;
  }

  /** Highest seq that may be removed. */
  private async trimPoint(t: Topic): Promise<number> {
    let floor = t.ackFloor();
    const { retainCount, retainMs } = t.retention ?? this.tuning.defaultRetention;
    if (retainCount > 0) floor = Math.min(floor, t.committedSeq - retainCount);
    if (retainMs > 0 && floor >= t.firstSeq) {
      floor = Math.min(floor, await this.log.lastSeqBefore(t.name, this.clock.now() - retainMs));
    }
    return floor;
  }
}
