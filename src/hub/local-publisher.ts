import { CorralError } from '../protocol/corral-error.js';
import { checkTopicName } from '../protocol/names.js';
import type { LocalTopics } from './hub-service.js';
import type { Publisher } from './publisher.js';
import type { PublishAckTarget } from './topic.js';
import { Topic } from './topic.js';
import type { TopicRegistry } from './topic-registry.js';

/** Publishing from services inside the hub, through the same ordered, durable path as clients. */
export class LocalPublisher implements LocalTopics, PublishAckTarget {
  private nextCorr = 1;
  private readonly waiting = new Map<number, { resolve: (seq: number) => void; reject: (err: CorralError) => void }>();

  constructor(
    private readonly topics: TopicRegistry,
    private readonly publisher: Publisher,
  ) {}

  async publish(topic: string, payload: Buffer, key?: Buffer): Promise<number> {
    checkTopicName(topic);
    const t = await this.topics.open(topic);
    if (!(t instanceof Topic)) throw new CorralError('NOT_OWNER', `topic ${topic} is owned by hub ${t.hubId}`);
    const corr = this.nextCorr++;
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(corr, { resolve, reject });
      this.publisher.publish(t, { corr, key, payload, producerId: undefined, producerSeq: 0 }, this);
    });
  }

  publishAcked(corr: number, seq: number): void {
    this.waiting.get(corr)?.resolve(seq);
    this.waiting.delete(corr);
  }

  publishFailed(corr: number, err: CorralError): void {
    this.waiting.get(corr)?.reject(err);
    this.waiting.delete(corr);
  }
}
