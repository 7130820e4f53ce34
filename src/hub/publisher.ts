import { CorralError } from '../protocol/corral-error.js';
import { Duplicate } from '../protocol/frames.js';
import type { MessageLog } from '../store/message-log.js';
import type { Clock } from './clock.js';
import type { GroupCommitter } from './group-commit.js';
import type { HubMetrics } from './hub-metrics.js';
import type { ProducerWindow } from './producer-window.js';
import type { PublishAckTarget, Topic } from './topic.js';

/**
 * Seqs per store read of a retry's original: a range of the primary key, so
 * one read is bounded (on SQLite it runs on the event loop) whatever the
 * topic holds.
 */
const LOOKUP_RANGE_SEQS = 4096;

export interface PublishRequest {
  corr: number;
  key: Buffer | undefined;
  payload: Buffer;
  producerId: string | undefined;
  producerSeq: number;
  /** [P-4.6] the producer's publish that must be stored first; 0 or undefined: none. */
  afterSeq?: number | undefined;
}

/**
 * Assigns the next seq of a topic to a publish and queues it for the group
 * commit, unless it repeats one already stored or pending [P-4.4].
 */
export class Publisher {
  constructor(
    private readonly committer: GroupCommitter,
    private readonly log: MessageLog,
    private readonly clock: Clock,
    private readonly metrics: HubMetrics,
    /** HubTuning.dedupLookbackSeqs */
    private readonly lookbackSeqs: number,
  ) {}

  publish(topic: Topic, req: PublishRequest, target: PublishAckTarget): void {
    const { producerId, producerSeq } = req;
    const bytes = publishBytes(req);
    const now = this.clock.now();
    if (producerId !== undefined) {
      const w = topic.producers.get(producerId);
      if (w && producerSeq <= w.latestProducerSeq) {
        this.duplicate(topic, req, target, w);
        return;
      }
      const after = req.afterSeq ?? 0;
      if (after > 0 && (w === undefined || after > w.latestProducerSeq)) {
        // [P-4.6] the earlier publish was refused or lost (the client resends it
        // first): storing this one now would put it ahead of that one.
        target.publishFailed(req.corr, new CorralError('OUT_OF_ORDER',
          `publish ${producerSeq} of producer ${producerId} to ${topic.name} follows ${after}, which is not stored; nothing was stored`), bytes);
        return;
      }
      topic.producers.record(producerId, producerSeq, topic.lastSeq + 1, now);
    }
    const seq = ++topic.lastSeq;
    topic.pendingRecords.push({
      seq,
      timestamp: now,
      key: req.key && ownCopy(req.key),
      payload: ownCopy(req.payload),
      producerId,
      producerSeq,
    });
    topic.pendingWaiters.push({ target, corr: req.corr, seq, duplicate: Duplicate.NO, bytes });
    this.committer.enqueue(topic);
  }

  /** [P-4.4] a retry is not stored again: it is answered with its original's seq, or as one whose original is not known. */
  private duplicate(topic: Topic, req: PublishRequest, target: PublishAckTarget, w: ProducerWindow): void {
    this.metrics.duplicates.inc();
    const bytes = publishBytes(req);
    const answer = (seq: number | undefined): void => {
      if (seq === undefined) {
        target.publishAcked(req.corr, 0, Duplicate.ORIGINAL_UNKNOWN, bytes);
      } else if (seq > topic.committedSeq) {
        // The original is not durable yet: answer once the next commit is done.
        topic.pendingWaiters.push({ target, corr: req.corr, seq, duplicate: Duplicate.YES, bytes });
        this.committer.enqueue(topic);
      } else {
        target.publishAcked(req.corr, seq, Duplicate.YES, bytes);
      }
    };
    const known = w.find(req.producerSeq);
    if (known.kind !== 'older') {
      answer(known.kind === 'found' ? known.seq : undefined);
      return;
    }
    this.original(topic, w, req.producerId!, req.producerSeq).then(answer, (err: unknown) => target.publishFailed(
      req.corr, err instanceof CorralError ? err : new CorralError('STORE_UNAVAILABLE', 'de-duplication lookup failed', { cause: err }), bytes));
  }

  /** The original's seq from the window, after one store walk of the producer at a time. */
  private async original(topic: Topic, w: ProducerWindow, producerId: string, producerSeq: number): Promise<number | undefined> {
    while (w.extending) await w.extending;
    const walk = this.walkBack(topic, w, producerId, producerSeq);
    const extending = walk.then(() => undefined, () => undefined);
    w.extending = extending;
    try {
      return await walk;
    } finally {
      if (w.extending === extending) w.extending = undefined;
    }
  }

  /**
   * Reads the producer's records below the window from the store, newest
   * range first, each a bounded range of the primary key, until the original
   * is found, passed (producer seqs grow with seqs: it was never stored), or
   * the lookback or the topic's first stored seq is reached.
   */
  private async walkBack(topic: Topic, w: ProducerWindow, producerId: string, producerSeq: number): Promise<number | undefined> {
    const known = w.find(producerSeq);
    if (known.kind !== 'older') return known.kind === 'found' ? known.seq : undefined;
    const floor = Math.max(topic.firstSeq, w.latestSeq - this.lookbackSeqs);
    for (let to = known.belowSeq - 1; to >= floor && !topic.closed;) {
      const from = Math.max(floor, to - LOOKUP_RANGE_SEQS + 1);
      const records = await this.log.producerRecords(topic.name, producerId, from, to);
      w.extendBack(records, from, to);
      for (let i = records.length - 1; i >= 0; i--) {
        const r = records[i]!;
        if (r.producerSeq === producerSeq) return r.seq;
        if (r.producerSeq < producerSeq) return undefined;
      }
      to = from - 1;
    }
    return undefined;
  }
}

/** What a publish holds in memory until it is settled. */
export function publishBytes(req: Pick<PublishRequest, 'payload' | 'key'>): number {
  return req.payload.length + (req.key?.length ?? 0);
}

/**
 * A copy in memory of its own. The frame's bytes are a view into a socket
 * chunk, and Buffer.from would slice Node's shared 8 KiB pool: either way one
 * record kept in a tail would keep a whole chunk or slab alive (measured: M1's
 * RSS was ~5 × its tail budget).
 */
function ownCopy(b: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(b.length);
  b.copy(copy);
  return copy;
}
