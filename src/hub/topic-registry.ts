import { metaKey } from '../store/metadata-store.js';
import type { Stores } from '../store/stores.js';
import type { Clock } from './clock.js';
import type { Owner, Ownership } from './ownership.js';
import { Subscription, subscriptionPrefix } from './subscription.js';
import { TailCache, type TailBudget } from './tail-cache.js';
import { TopicProducers, type ProducerLimits } from './topic-producers.js';
import { Topic, topicFenceKey, type Retention } from './topic.js';

export type RemoteOwner = Extract<Owner, { kind: 'remote' }>;

export function topicConfigKey(topic: string): string {
  return metaKey('topic', topic);
}

/**
 * The topics this hub has loaded. Opening a topic asks Ownership who owns it
 * (seed 002: serve if responsible, else redirect), claims it in the log with
 * the ownership epoch, and loads its subscriptions and producer state.
 * Concurrent opens of one topic share a single load.
 */
export class TopicRegistry {
  private readonly loaded = new Map<string, Topic>();
  private readonly opening = new Map<string, Promise<Topic | RemoteOwner>>();

  constructor(
    private readonly stores: Stores,
    private readonly ownership: Ownership,
    private readonly tailBudget: TailBudget,
    private readonly tailMessages: number,
    private readonly producerLimits: ProducerLimits,
    private readonly clock: Clock,
  ) {}

  get(name: string): Topic | undefined {
    return this.loaded.get(name);
  }

  all(): IterableIterator<Topic> {
    return this.loaded.values();
  }

  get size(): number {
    return this.loaded.size;
  }

  open(name: string): Promise<Topic | RemoteOwner> {
    const t = this.loaded.get(name);
    if (t) return Promise.resolve(t);
    let p = this.opening.get(name);
    if (!p) {
      p = this.load(name).finally(() => this.opening.delete(name));
      this.opening.set(name, p);
    }
    return p;
  }

  private async load(name: string): Promise<Topic | RemoteOwner> {
    const owner = await this.ownership.acquire(name);
    if (owner.kind === 'remote') return owner;
    const { metadata, log } = this.stores;
    const bounds = await log.claim(name, owner.epoch);
    // After the log claim, before the subscriptions are read: a stale owner's
    // subscription write either lands before this (and is read below) or is refused.
    const fenceKey = topicFenceKey(name);
    await metadata.put(fenceKey, String(owner.epoch), { fence: { key: fenceKey, epoch: owner.epoch } });
    const [subs, producers, config] = await Promise.all([
      metadata.list(subscriptionPrefix(name)),
      // Bounded: one more than the cap tells whether the store holds more than it may keep.
      log.producers(name, this.producerLimits.maxProducersPerTopic + 1),
      metadata.get(topicConfigKey(name)),
    ]);
    const topic = new Topic(name, owner.epoch, bounds.firstSeq, bounds.lastSeq,
      new TailCache(this.tailMessages, this.tailBudget), new TopicProducers(this.producerLimits, producers, this.clock.now()));
    const prefix = subscriptionPrefix(name);
    for (const e of subs) {
      const subName = e.key.slice(prefix.length);
      topic.subscriptions.set(subName, Subscription.decode(name, subName, e.value));
    }
    if (config) topic.retention = JSON.parse(config.value) as Retention;
    this.loaded.set(name, topic);
    return topic;
  }

  /**
   * Moves a topic away: while `work` runs, requests for the topic wait as if
   * it were loading, then get its answer (the new owner: a redirect). If
   * `work` gives the topic back, the move was abandoned and it stays here
   * (reloaded if it was closed meanwhile).
   */
  move(topic: Topic, work: () => Promise<Topic | RemoteOwner>): Promise<Topic | RemoteOwner> {
    this.loaded.delete(topic.name);
    const p = work().then((r) => {
      if (r !== topic) return r;
      if (topic.closed) return this.load(topic.name); // it failed meanwhile: load it afresh
      this.loaded.set(topic.name, topic);
      return topic;
    }).finally(() => this.opening.delete(topic.name));
    this.opening.set(topic.name, p);
    return p;
  }

  /** Drops a topic from memory (fenced, store failure, moved). The next request reloads it. */
  async unload(topic: Topic): Promise<void> {
    if (this.loaded.get(topic.name) !== topic) return;
    topic.closed = true;
    topic.tail.clear();
    this.loaded.delete(topic.name);
    await this.ownership.release(topic.name);
  }
}
