import { CorralError } from '../protocol/corral-error.js';
import type { MessageLog } from '../store/message-log.js';
import type { Clock } from './clock.js';
import type { GroupCommitter } from './group-commit.js';
import type { HubMetrics } from './hub-metrics.js';
import type { PublishAckTarget, Topic } from './topic.js';

export interface PublishRequest {
  corr: number;
  key: Buffer | undefined;
  payload: Buffer;
  producerId: string | undefined;
  producerSeq: number;
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
  ) {}

  publish(topic: Topic, req: PublishRequest, target: PublishAckTarget): void {
    const { producerId, producerSeq } = req;
    const bytes = publishBytes(req);
    if (producerId !== undefined) {
      const last = topic.producers.get(producerId);
      if (last && producerSeq <= last.producerSeq) {
        this.duplicate(topic, req, target, last);
        return;
      }
      if (last) {
        last.producerSeq = producerSeq;
        last.seq = topic.lastSeq + 1;
      } else {
        topic.producers.set(producerId, { producerSeq, seq: topic.lastSeq + 1 });
      }
    }
    const seq = ++topic.lastSeq;
    topic.pendingRecords.push({
      seq,
      timestamp: this.clock.now(),
      key: req.key && ownCopy(req.key),
      payload: ownCopy(req.payload),
      producerId,
      producerSeq,
    });
    topic.pendingWaiters.push({ target, corr: req.corr, seq, duplicate: false, bytes });
    this.committer.enqueue(topic);
  }

  private duplicate(topic: Topic, req: PublishRequest, target: PublishAckTarget, last: { producerSeq: number; seq: number }): void {
    this.metrics.duplicates.inc();
    const bytes = publishBytes(req);
    const ack = (seq: number): void => {
      if (seq > topic.committedSeq) {
        // The original is not durable yet: answer once the next commit is done.
        topic.pendingWaiters.push({ target, corr: req.corr, seq, duplicate: true, bytes });
        this.committer.enqueue(topic);
      } else {
        target.publishAcked(req.corr, seq, true, bytes);
      }
    };
    if (req.producerSeq === last.producerSeq) {
      ack(last.seq);
      return;
    }
    const pending = topic.pendingRecords.find((r) => r.producerId === req.producerId && r.producerSeq === req.producerSeq);
    if (pending) {
      ack(pending.seq);
      return;
    }
    this.log.findByProducer(topic.name, req.producerId!, req.producerSeq).then(
      (seq) => ack(seq ?? 0),
      (err: unknown) => target.publishFailed(req.corr, err instanceof CorralError ? err : new CorralError('STORE_UNAVAILABLE', 'de-duplication lookup failed', { cause: err }), bytes),
    );
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
