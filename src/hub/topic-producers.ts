import type { ProducerState } from '../store/message-log.js';
import { ProducerWindow } from './producer-window.js';

/** The bounds of a topic's de-duplication state [P-4.4] (`corral start --producer-idle`, `--max-producers-per-topic`). */
export interface ProducerLimits {
  /** A producer that published nothing new for this long is forgotten. */
  producerIdleMs: number;
  /** At most this many producers are remembered per topic; the least recently used goes first. */
  maxProducersPerTopic: number;
}

/**
 * The producers a topic remembers, least recently used first (a Map keeps
 * insertion order, and a use moves the producer to the end), bounded by
 * idle time and count (docs/decisions/producer-dedup.md).
 */
export class TopicProducers {
  private readonly windows = new Map<string, ProducerWindow>();
  /** The producer at the end of the map: a run of publishes by one producer moves nothing. */
  private newest: string | undefined;
  /**
   * Producers forgotten here (expired, evicted, or left in the store when
   * the topic was loaded) whose rows the store may still hold: the garbage
   * collector prunes the store when this is above 0.
   */
  forgotten = 0;

  /** `stored`: the store's producers, most recently used first, at most maxProducersPerTopic + 1. */
  constructor(private readonly limits: ProducerLimits, stored: readonly ProducerState[], nowMs: number) {
    const since = nowMs - limits.producerIdleMs;
    const live = stored.filter((p) => p.lastUsedMs >= since).slice(0, limits.maxProducersPerTopic);
    if (live.length < stored.length) this.forgotten = stored.length - live.length;
    for (let i = live.length - 1; i >= 0; i--) {
      const p = live[i]!;
      this.windows.set(p.producerId, new ProducerWindow(p.producerSeq, p.seq, p.lastUsedMs));
    }
    this.newest = live[0]?.producerId;
  }

  get size(): number {
    return this.windows.size;
  }

  get(producerId: string): ProducerWindow | undefined {
    return this.windows.get(producerId);
  }

  /** A new message of the producer (its producerSeq above any it had) got seq. */
  record(producerId: string, producerSeq: number, seq: number, nowMs: number): void {
    const w = this.windows.get(producerId);
    if (w === undefined) {
      this.windows.set(producerId, new ProducerWindow(producerSeq, seq, nowMs));
      this.newest = producerId;
      if (this.windows.size > this.limits.maxProducersPerTopic) this.evictOldest();
      return;
    }
    w.add(producerSeq, seq);
    w.lastUsedMs = nowMs;
    if (this.newest !== producerId) {
      this.windows.delete(producerId);
      this.windows.set(producerId, w);
      this.newest = producerId;
    }
  }

  /** Forgets the producers idle for longer than the limit; returns how many. */
  expire(nowMs: number): number {
    const since = nowMs - this.limits.producerIdleMs;
    let n = 0;
    for (const [id, w] of this.windows) {
      if (w.lastUsedMs >= since) break;
      this.windows.delete(id);
      n++;
    }
    if (this.windows.size === 0) this.newest = undefined;
    this.forgotten += n;
    return n;
  }

  private evictOldest(): void {
    const oldest = this.windows.keys().next();
    if (oldest.done === true) return;
    this.windows.delete(oldest.value);
    this.forgotten++;
  }
}
