import { CorralError } from '../protocol/corral-error.js';
import { checkSubscriptionName, checkTopicName } from '../protocol/names.js';
import type { LogRecord } from '../store/message-log.js';
import type { SessionAttachment } from './client-session.js';
import type { LocalMessage, LocalSubscription, LocalTopics } from './hub-service.js';
import type { Publisher } from './publisher.js';
import type { AttachingTarget, SubscriptionManager } from './subscription-manager.js';
import type { Attachment } from './subscription.js';
import type { PublishAckTarget } from './topic.js';
import { Topic } from './topic.js';
import type { TopicRegistry } from './topic-registry.js';

/**
 * Topics from services inside the hub, through the same ordered, durable
 * paths as clients: publishes go through group commit, subscriptions are
 * ordinary durable subscriptions (cursors, GC) attached to the service.
 */
export class LocalTopicAccess implements LocalTopics, PublishAckTarget {
  private nextCorr = 1;
  private readonly waiting = new Map<number, { resolve: (seq: number) => void; reject: (err: CorralError) => void }>();

  constructor(
    private readonly topics: TopicRegistry,
    private readonly publisher: Publisher,
    private readonly subs: SubscriptionManager,
  ) {}

  async publish(topic: string, payload: Buffer, key?: Buffer): Promise<number> {
    const t = await this.owned(topic);
    const corr = this.nextCorr++;
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(corr, { resolve, reject });
      this.publisher.publish(t, { corr, key, payload, producerId: undefined, producerSeq: 0 }, this);
    });
  }

  async subscribe(topic: string, subscription: string, onMessage: (m: LocalMessage) => Promise<void>): Promise<LocalSubscription> {
    checkSubscriptionName(subscription);
    const t = await this.owned(topic);
    const consumer = new LocalConsumer(t, this.subs, onMessage);
    const att = await this.subs.attach(t, subscription, { kind: 'latest' }, consumer, 1, 1);
    if (!att) throw new CorralError('NOT_OWNER', `topic ${topic} was unloaded; retry`);
    consumer.attachment = att;
    this.subs.start(t, att);
    return consumer;
  }

  publishAcked(corr: number, seq: number): void {
    this.waiting.get(corr)?.resolve(seq);
    this.waiting.delete(corr);
  }

  publishFailed(corr: number, err: CorralError): void {
    this.waiting.get(corr)?.reject(err);
    this.waiting.delete(corr);
  }

  private async owned(topic: string): Promise<Topic> {
    checkTopicName(topic);
    const t = await this.topics.open(topic);
    if (!(t instanceof Topic)) throw new CorralError('NOT_OWNER', `topic ${topic} is owned by hub ${t.hubId}`);
    return t;
  }
}

/** One message at a time: the next is delivered once the handler resolved and the message was acknowledged. */
class LocalConsumer implements AttachingTarget, LocalSubscription {
  readonly attachments = new Map<number, SessionAttachment>();
  attachment: Attachment | undefined;
  private open = true;

  constructor(
    private readonly topic: Topic,
    private readonly subs: SubscriptionManager,
    private readonly onMessage: (m: LocalMessage) => Promise<void>,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  get writable(): boolean {
    return this.open;
  }

  deliver(_subId: number, rec: LogRecord): void {
    const m: LocalMessage = { seq: rec.seq, timestamp: rec.timestamp, key: rec.key, payload: Buffer.from(rec.payload) };
    this.onMessage(m).then(() => {
      const att = this.attachment;
      if (!att || att.detached) return;
      this.subs.ack(this.topic, att, m.seq);
      this.subs.credit(this.topic, att, 1);
    }, () => this.close());
  }

  subscriptionEnded(): void {
    this.open = false;
  }

  close(): void {
    this.open = false;
    if (this.attachment) this.subs.detach(this.attachment);
  }
}
