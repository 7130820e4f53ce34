import type { Logger } from 'pino';
import { CorralError } from '../protocol/corral-error.js';
import type { MessageLog } from '../store/message-log.js';
import type { HubMetrics } from './hub-metrics.js';
import type { Attachment } from './subscription.js';
import type { Topic } from './topic.js';

const CATCH_UP_MAX_BYTES = 1024 * 1024;
const RETRY_READ_MS = 200;

/**
 * Moves committed messages to attached subscribers, in seq order, never more
 * than their credit [P-5.3] and never into a connection whose outbound buffer
 * is full. Subscribers at the head are served from the topic's tail; those
 * behind read from the store in batches (catch-up).
 */
export class Deliverer {
  constructor(
    private readonly log: MessageLog,
    private readonly metrics: HubMetrics,
    private readonly logger: Logger,
    private readonly catchUpBatch: number,
  ) {}

  /** New messages were committed on the topic. */
  topicCommitted(topic: Topic): void {
    for (const s of topic.subscriptions.values()) if (s.attachment) this.pump(topic, s.attachment);
  }

  pump(topic: Topic, att: Attachment): void {
    if (att.detached || att.reading || topic.closed) return;
    const target = att.target;
    let sent = 0;
    while (att.credit > 0 && att.nextSeq <= topic.committedSeq && target.writable) {
      const rec = topic.tail.get(att.nextSeq);
      if (!rec) {
        this.catchUp(topic, att);
        break;
      }
      target.deliver(att.subId, rec);
      att.nextSeq++;
      att.credit--;
      sent++;
    }
    if (sent > 0) this.metrics.deliveries.inc(sent);
  }

  private catchUp(topic: Topic, att: Attachment): void {
    att.reading = true;
    this.metrics.catchUpReads.inc();
    const limit = { maxRecords: Math.min(att.credit, this.catchUpBatch), maxBytes: CATCH_UP_MAX_BYTES };
    this.log.read(topic.name, att.nextSeq, limit).then((recs) => {
      att.reading = false;
      if (att.detached || topic.closed) return;
      let sent = 0;
      for (const r of recs) {
        if (r.seq < att.nextSeq) continue;
        // A connection that filled up mid-batch takes the rest on a later read, so a batch never overshoots its bounds.
        if (r.seq > topic.committedSeq || att.credit <= 0 || !att.target.writable) break;
        // A gap means retention or GC removed those records before this read.
        att.nextSeq = r.seq + 1;
        att.credit--;
        att.target.deliver(att.subId, r);
        sent++;
      }
      this.metrics.deliveries.inc(sent);
      if (recs.length === 0 && att.nextSeq <= topic.committedSeq) {
        if (topic.firstSeq > att.nextSeq) att.nextSeq = topic.firstSeq;
        else return this.retryLater(topic, att, new Error(`log returned nothing at seq ${att.nextSeq}`));
      }
      this.pump(topic, att);
    }, (err: unknown) => {
      att.reading = false;
      this.retryLater(topic, att, err);
    });
  }

  private retryLater(topic: Topic, att: Attachment, err: unknown): void {
    this.logger.warn({ err, topic: topic.name, subscription: att.subscription.name }, 'catch-up read failed; retrying');
    if (err instanceof CorralError && !err.retryable) {
      att.target.subscriptionEnded(att.subId, err);
      return;
    }
    setTimeout(() => this.pump(topic, att), RETRY_READ_MS).unref();
  }
}
