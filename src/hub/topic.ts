import type { CorralError } from '../protocol/corral-error.js';
import type { Duplicate } from '../protocol/frames.js';
import type { LogRecord } from '../store/message-log.js';
import { metaKey, type Fence } from '../store/metadata-store.js';
import type { Subscription } from './subscription.js';
import type { TailCache } from './tail-cache.js';
import type { TopicProducers } from './topic-producers.js';

/** Who waits for a publish to become durable. */
export interface PublishAckTarget {
  /** `bytes` is the size the publish was admitted with, for the target's inbound accounting. */
  publishAcked(corr: number, seq: number, duplicate: Duplicate, bytes: number): void;
  publishFailed(corr: number, err: CorralError, bytes: number): void;
}

export interface PublishWaiter {
  target: PublishAckTarget;
  corr: number;
  seq: number;
  duplicate: Duplicate;
  bytes: number;
}

export interface Retention {
  retainCount: number;
  retainMs: number;
}

/** A loaded topic owned by this hub: its sequence state, tail and subscriptions. */
/**
 * The metadata key whose number is the topic's fencing epoch: an owner raises
 * it when it loads the topic, and its subscription writes carry it, so a
 * stale owner cannot write one after a newer owner loaded the topic.
 */
export function topicFenceKey(topic: string): string {
  return metaKey('fence', topic);
}

export class Topic {
  /** Highest seq assigned (pending or committed). */
  lastSeq: number;
  /** Highest seq durable in the log; only these are delivered. */
  committedSeq: number;
  /** Lowest seq still stored. */
  firstSeq: number;
  readonly subscriptions = new Map<string, Subscription>();
  /** Assigned but not yet handed to the store. */
  pendingRecords: LogRecord[] = [];
  pendingWaiters: PublishWaiter[] = [];
  /** Set by `corral retain` (CONFIGURE_TOPIC); undefined: the hub's default retention applies. */
  retention: Retention | undefined = undefined;
  /** Set when the topic was unloaded; late callbacks check it. */
  closed = false;

  constructor(
    readonly name: string,
    readonly epoch: number,
    firstSeq: number,
    lastSeq: number,
    readonly tail: TailCache,
    /** Recent producer seqs per producer id, including pending publishes [P-4.4]. */
    readonly producers: TopicProducers,
  ) {
    this.firstSeq = firstSeq;
    this.lastSeq = lastSeq;
    this.committedSeq = lastSeq;
  }
  /** Fences this owner's subscription writes [P-6.1]. */
  get fence(): Fence {
    return { key: topicFenceKey(this.name), epoch: this.epoch };
  }


  hasAttached(): boolean {
    for (const s of this.subscriptions.values()) if (s.attachment) return true;
    return false;
  }

  /** Lowest seq any subscription still needs, or committedSeq + 1 when none does. */
  ackFloor(): number {
    let floor = this.committedSeq;
    for (const s of this.subscriptions.values()) floor = Math.min(floor, s.ackedSeq);
    return floor;
  }
}
