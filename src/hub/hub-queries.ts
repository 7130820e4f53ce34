import { CorralError } from '../protocol/corral-error.js';
import type { HubInfo, StatsResult, TopicInfo } from '../protocol/query-results.js';
import { metaKey } from '../store/metadata-store.js';
import type { Stores } from '../store/stores.js';
import type { Clock } from './clock.js';
import type { HubMetrics } from './hub-metrics.js';
import type { HubTuning } from './hub-options.js';
import type { Membership } from './membership.js';
import { ownerKey } from './cluster-ownership.js';
import type { ServiceHost } from './service-host.js';
import type { TopicRegistry } from './topic-registry.js';
import { Subscription } from './subscription.js';
import type { Retention } from './topic.js';

export const CORRAL_VERSION = '0.1.0';

/** What the queries read of a hub. */
export interface QueryableHub {
  readonly hubId: string;
  readonly stores: Stores;
  readonly topics: TopicRegistry;
  readonly metrics: HubMetrics;
  readonly clock: Clock;
  readonly startedAt: number;
  readonly durability: string;
  readonly connectionCount: number;
  /** Cluster mode only. */
  readonly membership: Membership | undefined;
  /** Services add QUERY kinds of their own. */
  readonly services: ServiceHost;
  readonly tuning: Pick<HubTuning, 'defaultRetention'>;
}

/** Answers QUERY frames and the admin API: "topics" and "stats". */
export class HubQueries {
  /** Answers being computed, by kind and arguments: concurrent askers share one. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(private readonly hub: QueryableHub) {}

  /**
   * A burst of the same query (a dashboard, or a client flooding QUERY) costs
   * the store one read, not one per asker: each asker gets the answer of the
   * computation under way when it asked, which is as fresh as its own would be.
   */
  answer(kind: string, args: string): Promise<unknown> {
    const key = `${kind}\0${args}`;
    let p = this.inFlight.get(key);
    if (p === undefined) {
      p = this.compute(kind, args).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private compute(kind: string, args: string): Promise<unknown> {
    switch (kind) {
      case 'topics': return this.topics().then((topics) => ({ topics }));
      case 'stats': return this.stats();
      case 'hubs': return this.hubs().then((hubs) => ({ hubs }));
      default: return this.hub.services.query(kind, args)
        ?? Promise.reject(new CorralError('UNKNOWN_QUERY', `unknown query ${JSON.stringify(kind)}; this hub answers "topics", "stats", "hubs" and those of its services`));
    }
  }

  /** Every topic in the log, with live state where the topic is loaded. */
  async topics(): Promise<TopicInfo[]> {
    const { log, metadata } = this.hub.stores;
    const [bounds, subEntries, configEntries, ownerEntries] = await Promise.all([
      log.topics(), metadata.list(metaKey('sub', '')), metadata.list(metaKey('topic', '')), metadata.list(ownerKey('')),
    ]);
    const owners = new Map(ownerEntries.map((e) => [e.key.slice(ownerKey('').length), (JSON.parse(e.value) as { hubId: string }).hubId]));
    const standalone = this.hub.membership === undefined;
    // An owner record outlives a hub killed with SIGKILL until another hub takes the topic: name live owners only.
    const liveHubIds = new Set((await this.hub.membership?.liveHubs())?.map((h) => h.hubId));
    const storedSubs = new Map<string, Subscription[]>();
    for (const e of subEntries) {
      const [, topic, name] = e.key.split('|') as [string, string, string];
      const list = storedSubs.get(topic) ?? [];
      list.push(Subscription.decode(topic, name, e.value));
      storedSubs.set(topic, list);
    }
    const configs = new Map(configEntries.map((e) => [e.key.slice('topic|'.length), JSON.parse(e.value) as Retention]));
    return bounds.map((b) => {
      const live = this.hub.topics.get(b.topic);
      const firstSeq = live?.firstSeq ?? b.firstSeq;
      const lastSeq = live?.committedSeq ?? b.lastSeq;
      const subs = live ? [...live.subscriptions.values()] : storedSubs.get(b.topic) ?? [];
      const ownerId = owners.get(b.topic);
      const liveOwner = ownerId !== undefined && liveHubIds.has(ownerId) ? ownerId : undefined;
      const retention = live?.retention ?? configs.get(b.topic) ?? this.hub.tuning.defaultRetention;
      return {
        topic: b.topic,
        firstSeq,
        lastSeq,
        stored: Math.max(0, lastSeq - firstSeq + 1),
        retainCount: retention.retainCount,
        retainMs: retention.retainMs,
        owner: standalone ? this.hub.hubId : liveOwner,
        producers: live?.producers.size,
        subscriptions: subs.map((s) => ({
          name: s.name, ackedSeq: s.ackedSeq, backlog: Math.max(0, lastSeq - s.ackedSeq), attached: s.attachment !== undefined,
        })),
      };
    });
  }

  /** Live hubs with their load; a standalone hub lists itself. */
  async hubs(): Promise<HubInfo[]> {
    if (this.hub.membership) return this.hub.membership.liveHubs();
    return [{
      hubId: this.hub.hubId, pid: process.pid,
      load: { topics: this.hub.topics.size, msgRate: 0, connections: this.hub.connectionCount, lagMs: 0 },
    }];
  }

  async stats(): Promise<StatsResult> {
    const topics = await this.topics();
    const m = this.hub.metrics;
    const mem = process.memoryUsage();
    const total = async (c: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> =>
      (await c.get()).values.reduce((n, v) => n + v.value, 0);
    return {
      hubId: this.hub.hubId,
      version: CORRAL_VERSION,
      uptimeMs: this.hub.clock.now() - this.hub.startedAt,
      durability: this.hub.durability,
      connections: this.hub.connectionCount,
      topics: topics.length,
      subscriptions: topics.reduce((n, t) => n + t.subscriptions.length, 0),
      storedMessages: topics.reduce((n, t) => n + t.stored, 0),
      publishes: await total(m.publishes),
      deliveries: await total(m.deliveries),
      acks: await total(m.acks),
      memory: { rss: mem.rss, heapUsed: mem.heapUsed },
    };
  }
}
