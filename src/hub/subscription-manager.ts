import { CorralError } from '../protocol/corral-error.js';
import type { StartPosition } from '../protocol/frames.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { SessionAttachment } from './client-session.js';
import type { Clock } from './clock.js';
import type { Deliverer } from './deliverer.js';
import type { HubMetrics } from './hub-metrics.js';
import { Attachment, Subscription, type DeliveryTarget } from './subscription.js';
import type { Topic } from './topic.js';

/** Whatever a subscription attaches to: a client session, or a service inside the hub. */
export interface AttachingTarget extends DeliveryTarget {
  readonly isOpen: boolean;
  readonly attachments: Map<number, SessionAttachment>;
}

/**
 * Durable subscriptions of loaded topics: creating, attaching a connection,
 * credit, cumulative acks [P-5.4], detaching, deleting, and writing cursors
 * back to the metadata store.
 */
export class SubscriptionManager {
  /** Subscriptions whose cursor moved, with the topic they belong to (for its fence). */
  private readonly dirty = new Map<Subscription, Topic>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly deliverer: Deliverer,
    private readonly clock: Clock,
    private readonly metrics: HubMetrics,
  ) {}

  /**
   * Attaches the subscription (created if new) to the session under subId.
   * Undefined when the session closed meanwhile.
   */
  async attach(topic: Topic, name: string, start: StartPosition, session: AttachingTarget, subId: number, credit: number): Promise<Attachment | undefined> {
    let sub = topic.subscriptions.get(name);
    if (!sub) {
      sub = new Subscription(topic.name, name, startAck(topic, start), this.clock.now());
      // In memory first, so GC keeps what the new subscription needs even
      // while the metadata write is in flight.
      topic.subscriptions.set(name, sub);
      try {
        await this.metadata.put(sub.key, sub.encode(), { fence: topic.fence });
      } catch (err) {
        if (topic.subscriptions.get(name) === sub) topic.subscriptions.delete(name);
        throw err;
      }
    }
    if (topic.closed) throw new CorralError('NOT_OWNER', `topic ${topic.name} was unloaded; retry`);
    if (session.attachments.has(subId)) throw new CorralError('DUPLICATE_SUBSCRIPTION_ID', `subscription handle ${subId} is already attached`);
    if (!session.isOpen) return undefined;
    const previous = sub.attachment;
    if (previous) {
      previous.detached = true;
      previous.target.subscriptionEnded(previous.subId, new CorralError('SUBSCRIPTION_TAKEN_OVER', `subscription ${name} on ${topic.name} was attached by another connection`));
    }
    const att = new Attachment(session, subId, sub, credit);
    sub.attachment = att;
    session.attachments.set(subId, { topic, attachment: att });
    return att;
  }

  /** Starts delivery after SUBSCRIBED was sent. */
  start(topic: Topic, att: Attachment): void {
    this.deliverer.pump(topic, att);
  }

  credit(topic: Topic, att: Attachment, credit: number): void {
    att.credit = Math.min(att.credit + credit, 0xffffffff);
    this.deliverer.pump(topic, att);
  }

  /** Cumulative: acknowledges everything up to seq [P-5.4]. */
  ack(topic: Topic, att: Attachment, seq: number): void {
    if (seq > topic.committedSeq) {
      throw new CorralError('INVALID_ARGUMENT', `ack of seq ${seq} beyond the last message ${topic.committedSeq} of ${topic.name}`);
    }
    const sub = att.subscription;
    if (seq <= sub.ackedSeq) return;
    sub.ackedSeq = seq;
    // Acking past what was sent skips those messages.
    if (att.nextSeq <= seq) att.nextSeq = seq + 1;
    this.dirty.set(sub, topic);
    this.metrics.acks.inc();
  }

  detach(att: Attachment): void {
    att.detached = true;
    if (att.subscription.attachment === att) att.subscription.attachment = undefined;
  }

  async remove(topic: Topic, name: string): Promise<void> {
    const sub = topic.subscriptions.get(name);
    if (!sub) throw new CorralError('UNKNOWN_SUBSCRIPTION', `no subscription ${name} on ${topic.name}`);
    topic.subscriptions.delete(name);
    this.dirty.delete(sub);
    const att = sub.attachment;
    if (att) {
      this.detach(att);
      att.target.subscriptionEnded(att.subId, new CorralError('SUBSCRIPTION_DELETED', `subscription ${name} on ${topic.name} was removed`));
    }
    await this.metadata.delete(sub.key, undefined, topic.fence);
  }

  /**
   * Writes changed cursors in one transaction. A crash loses at most this
   * interval's acks (redelivered). A cursor of a topic a newer owner loaded
   * is not written (fenced): that owner's cursor stands.
   */
  async flush(): Promise<void> {
    if (this.dirty.size === 0) return;
    const subs = [...this.dirty];
    this.dirty.clear();
    const entries = subs.map(([s, t]) => ({ key: s.key, value: s.encode(), fence: t.fence }));
    try {
      const written = await this.metadata.putMany(entries);
      subs.forEach(([s], i) => { if (written[i]) s.persistedAck = s.ackedSeq; });
    } catch (err) {
      for (const [s, t] of subs) if (!this.dirty.has(s)) this.dirty.set(s, t);
      throw err;
    }
  }
}

/** [P-5.2] where a new subscription starts; an existing one ignores it. */
function startAck(topic: Topic, start: StartPosition): number {
  switch (start.kind) {
    case 'earliest': return topic.firstSeq - 1;
    case 'latest': return topic.committedSeq;
    case 'seq': return Math.min(Math.max(start.seq - 1, topic.firstSeq - 1), topic.committedSeq);
  }
}
