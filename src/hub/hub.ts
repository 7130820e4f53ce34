import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { CorralError } from '../protocol/corral-error.js';
import { encodeFrame } from '../protocol/encode.js';
import { FrameType } from '../protocol/frame-type.js';
import {
  DEDUP_UNKNOWN_FEATURE, PUBLISH_ORDER_FEATURE, type AckFrame, type ConfigureTopicFrame, type CreditFrame, type DeleteTopicFrame, type DetachFrame, type Frame,
  type PublishFrame, type QueryFrame, type SubscribeFrame, type UnsubscribeFrame,
} from '../protocol/frames.js';
import { checkSubscriptionName, checkTopicName } from '../protocol/names.js';
import type { Stores } from '../store/stores.js';
import { authorize } from './authorize.js';
import type { AccessControl } from './access-control.js';
import { ClientSession, type SessionAttachment, type SessionHost } from './client-session.js';
import type { Clock } from './clock.js';
import { Deliverer } from './deliverer.js';
import { GarbageCollector } from './garbage-collector.js';
import { GroupCommitter } from './group-commit.js';
import { HubMetrics } from './hub-metrics.js';
import { DEFAULT_LIMITS, DEFAULT_TUNING, type HubLimits, type HubOptions, type HubTuning } from './hub-options.js';
import type { LocalTopics } from './hub-service.js';
import { LocalTopicAccess } from './local-topic-access.js';
import { duplexPair } from './loopback.js';
import { NO_PEER_ACCESS } from './peer-access.js';
import { refuseConnection } from './refuse-connection.js';
import type { Membership } from './membership.js';
import { OutboundBudget } from './outbound-budget.js';
import type { Ownership } from './ownership.js';
import { Publisher, publishBytes } from './publisher.js';
import { HubQueries, type QueryableHub } from './hub-queries.js';
import { ServiceHost } from './service-host.js';
import { SubscriptionManager } from './subscription-manager.js';
import { TailBudget } from './tail-cache.js';
import { deleteTopic } from './delete-topic.js';
import { topicConfigKey, TopicRegistry, type RemoteOwner } from './topic-registry.js';
import { Topic, type Retention } from './topic.js';

/** [P-1.4] the core protocol's optional features this hub grants when asked. */
const CORE_FEATURES = [DEDUP_UNKNOWN_FEATURE, PUBLISH_ORDER_FEATURE];

function asCorralError(err: unknown): CorralError {
  return err instanceof CorralError ? err : new CorralError('INTERNAL', 'unexpected hub failure', { cause: err });
}

/**
 * The hub core: topics this hub owns, their ordered log with group commit,
 * delivery, acks and garbage collection (seed 002's message processor).
 * Transports and stores are injected: `accept` takes any duplex stream.
 */
export class Hub implements SessionHost, QueryableHub {
  readonly hubId: string;
  readonly limits: HubLimits;
  readonly tuning: HubTuning;
  readonly access: AccessControl | undefined;
  readonly metrics = new HubMetrics();
  readonly logger: Logger;
  readonly stores: Stores;
  readonly ownership: Ownership;
  readonly clock: Clock;
  readonly startedAt: number;
  readonly durability: string;
  readonly membership: Membership | undefined;
  readonly topics: TopicRegistry;
  readonly localTopics: LocalTopics;
  /** The services this hub runs and the resources it owns for them [P-11]. */
  readonly services: ServiceHost;
  readonly outboundBudget: OutboundBudget<ClientSession>;
  private readonly sessions = new Set<ClientSession>();
  private readonly committer: GroupCommitter;
  private readonly deliverer: Deliverer;
  private readonly publisher: Publisher;
  private readonly subs: SubscriptionManager;
  private readonly gc: GarbageCollector;
  private readonly queries: HubQueries;
  private cursorTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(readonly options: HubOptions) {
    this.hubId = options.hubId;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.access = options.access;
    this.logger = options.logger;
    this.stores = options.stores;
    this.ownership = options.ownership;
    this.clock = options.clock;
    this.startedAt = this.clock.now();
    this.durability = options.durability;
    this.membership = options.membership;
    this.outboundBudget = new OutboundBudget(this.limits.outboundBudgetBytes, (s) => this.resume(s));
    this.services = new ServiceHost(options.services ?? [], this.ownership, this.stores.metadata, this.logger);
    const { log, metadata } = this.stores;
    this.topics = new TopicRegistry(this.stores, this.ownership, new TailBudget(this.tuning.tailBudgetBytes), this.tuning.tailMessagesPerTopic, this.tuning, this.clock);
    this.deliverer = new Deliverer(log, this.metrics, this.logger, this.tuning.catchUpBatch);
    this.committer = new GroupCommitter(log, {
      committed: (t) => this.deliverer.topicCommitted(t),
      failed: (t, err) => {
        this.logger.error({ err, topic: t.name }, 'commit failed; reloading topic');
        this.unloadTopic(t, err);
      },
    }, this.metrics, this.tuning.maxCommitRecords);
    this.publisher = new Publisher(this.committer, log, this.clock, this.metrics, this.tuning.dedupLookbackSeqs);
    this.subs = new SubscriptionManager(metadata, this.deliverer, this.clock, this.metrics);
    this.gc = new GarbageCollector(this.topics, log, this.clock, this.metrics, this.logger, this.tuning);
    this.queries = new HubQueries(this);
    this.localTopics = new LocalTopicAccess(this.topics, this.publisher, this.subs);
    this.registerGauges();
  }

  async start(): Promise<void> {
    for (const name of await this.ownership.startupTopics(this.stores.log)) await this.topics.open(name);
    this.cursorTimer = setInterval(() => {
      this.subs.flush().catch((err: unknown) => this.logger.warn({ err }, 'cursor flush failed; will retry'));
    }, this.tuning.cursorFlushIntervalMs);
    this.cursorTimer.unref();
    this.gc.start();
    const ctx = {
      hubId: this.hubId, stores: this.stores, ownership: this.ownership, topics: this.localTopics,
      clock: this.clock, logger: this.logger, metrics: this.metrics.registry,
      loopback: () => this.loopback(), peer: this.options.peer ?? NO_PEER_ACCESS,
    };
    await this.services.start(ctx);
  }

  /**
   * A client connection into this hub without a socket, for a service that is
   * a client of its own cluster (a counter branch and its parent). It is the
   * hub's own: it needs no credential and may do everything.
   */
  loopback(): Duplex {
    const [hubEnd, clientEnd] = duplexPair();
    this.accept(hubEnd, { trusted: true });
    // The client waits for "connect" as a socket gives it.
    queueMicrotask(() => clientEnd.emit('connect'));
    return clientEnd;
  }

  /** Serves one client connection over any duplex byte stream. */
  accept(stream: Duplex, opts: { trusted?: boolean } = {}): ClientSession | undefined {
    if (this.sessions.size >= this.limits.maxConnections) {
      refuseConnection(stream, new CorralError('CONNECTION_LIMIT', `hub ${this.hubId} serves ${this.sessions.size} connections, its maximum`), this.metrics);
      return undefined;
    }
    const session = new ClientSession(stream, this, opts.trusted === true);
    this.sessions.add(session);
    if (this.stopping) session.goodbye('hub is shutting down');
    return session;
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  get topicCount(): number {
    return this.topics.size;
  }

  serviceLoad(): number {
    return this.services.totalLoad();
  }

  publishedTotal(): number {
    return this.metrics.publishedTotal;
  }

  /**
   * Graceful shutdown: refuse new publishes, let in-flight commits finish and
   * their acks go out, write cursors, then say GOODBYE to every client.
   * `beforeGoodbye` runs once everything is durable (a cluster hub leaves the
   * membership there, so the clients it sends away find its topics free).
   */
  async stop(beforeGoodbye?: () => Promise<void>): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.services.refuse();
    this.gc.stop();
    clearInterval(this.cursorTimer);
    await this.committer.drain();
    await this.subs.flush().catch((err: unknown) => this.logger.warn({ err }, 'final cursor flush failed'));
    if (beforeGoodbye) await beforeGoodbye();
    for (const s of this.sessions) s.goodbye('hub is shutting down');
    // Sessions send services nothing more: they finish what runs and stop.
    await this.services.stop().catch((err: unknown) => this.logger.warn({ err }, 'stopping services failed'));
    await this.gc.idle();
  }

  // ---- SessionHost

  route(session: ClientSession, f: Frame): void {
    try {
      authorize(session.principal, f, (kind) => this.services.queryService(kind));
      if ('service' in f) {
        this.services.route(session, f);
        return;
      }
      switch (f.type) {
        case FrameType.PUBLISH: return this.onPublish(session, f);
        case FrameType.SUBSCRIBE: return this.onSubscribe(session, f);
        case FrameType.CREDIT: return this.onCredit(session, f);
        case FrameType.ACK: return this.onAck(session, f);
        case FrameType.DETACH: return this.onDetach(session, f);
        case FrameType.UNSUBSCRIBE: return this.onUnsubscribe(session, f);
        case FrameType.CONFIGURE_TOPIC: return this.onConfigure(session, f);
        case FrameType.DELETE_TOPIC: return this.onDeleteTopic(session, f);
        case FrameType.QUERY: return this.onQuery(session, f);
        default:
          session.sendError(0, new CorralError('BAD_FRAME', `frame type 0x${f.type.toString(16)} is not accepted by a hub`));
      }
    } catch (err) {
      const corr = 'corr' in f ? f.corr : 0;
      session.sendError(corr, asCorralError(err));
    }
  }

  resume(session: ClientSession): void {
    for (const { topic, attachment } of session.attachments.values()) this.deliverer.pump(topic, attachment);
  }

  grantFeatures(requested: readonly string[]): string[] {
    const core = CORE_FEATURES.filter((f) => requested.includes(f));
    return [...this.services.grant(requested), ...core];
  }

  closed(session: ClientSession): void {
    this.sessions.delete(session);
    for (const { attachment } of session.attachments.values()) this.subs.detach(attachment);
    session.attachments.clear();
  }

  // ---- frame handlers

  /**
   * Seed 002's request flow: serve if this hub owns the topic, redirect to
   * the owner otherwise. Requests for a topic that is still loading queue on
   * its load, in arrival order.
   */
  private withTopic(session: ClientSession, corr: number, name: string, fn: (t: Topic) => void | Promise<void>): void {
    checkTopicName(name);
    const loaded = this.topics.get(name);
    if (loaded) {
      const r = fn(loaded);
      if (r) r.catch((err: unknown) => session.sendError(corr, asCorralError(err)));
      return;
    }
    this.topics.open(name).then(async (t) => {
      if (t instanceof Topic) await fn(t);
      else this.redirect(session, corr, name, t);
    }).catch((err: unknown) => session.sendError(corr, asCorralError(err)));
  }

  private redirect(session: ClientSession, corr: number, topic: string, owner: RemoteOwner): void {
    session.send(encodeFrame({ type: FrameType.REDIRECT, corr, topic, hubId: owner.hubId, address: owner.address, epoch: owner.epoch }));
  }

  private onPublish(session: ClientSession, f: PublishFrame): void {
    if (this.stopping) throw new CorralError('SHUTTING_DOWN', 'hub is shutting down');
    const max = this.limits.maxPayloadBytes;
    if (f.payload.length > max || (f.key !== undefined && f.key.length > max)) {
      throw new CorralError('PAYLOAD_TOO_LARGE', `payload of ${f.payload.length} bytes exceeds ${max}`);
    }
    checkTopicName(f.topic);
    if (f.afterSeq !== undefined && f.producerId !== undefined && f.afterSeq >= f.producerSeq) {
      throw new CorralError('INVALID_ARGUMENT', `afterSeq ${f.afterSeq} must be below producerSeq ${f.producerSeq} [P-4.6]`);
    }
    session.publishStarted(publishBytes(f));
    if (session.publishedTopics.size > 10_000) session.publishedTopics.clear();
    session.publishedTopics.add(f.topic);
    const loaded = this.topics.get(f.topic);
    if (loaded) {
      this.publisher.publish(loaded, f, session);
      return;
    }
    this.topics.open(f.topic).then((t) => {
      if (t instanceof Topic) this.publisher.publish(t, f, session);
      else {
        session.publishSettled(publishBytes(f));
        this.redirect(session, f.corr, f.topic, t);
      }
    }, (err: unknown) => session.publishFailed(f.corr, asCorralError(err), publishBytes(f)));
  }

  private onSubscribe(session: ClientSession, f: SubscribeFrame): void {
    checkSubscriptionName(f.subscription);
    if (session.attachments.has(f.subId)) {
      throw new CorralError('DUPLICATE_SUBSCRIPTION_ID', `subscription handle ${f.subId} is already attached`);
    }
    if (session.attachments.size >= this.limits.maxSubscriptionsPerConnection) {
      throw new CorralError('TOO_MANY_SUBSCRIPTIONS', `at most ${this.limits.maxSubscriptionsPerConnection} subscriptions per connection`);
    }
    this.withTopic(session, f.corr, f.topic, async (t) => {
      const att = await this.subs.attach(t, f.subscription, f.start, session, f.subId, f.credit);
      if (!att) return;
      session.send(encodeFrame({ type: FrameType.SUBSCRIBED, corr: f.corr, subId: f.subId, ackedSeq: att.subscription.ackedSeq, lastSeq: t.committedSeq }));
      this.subs.start(t, att);
    });
  }

  private attachmentOf(session: ClientSession, subId: number): SessionAttachment {
    const a = session.attachments.get(subId);
    if (!a) throw new CorralError('UNKNOWN_SUBSCRIPTION', `no subscription attached under handle ${subId}`);
    return a;
  }

  private onCredit(session: ClientSession, f: CreditFrame): void {
    const { topic, attachment } = this.attachmentOf(session, f.subId);
    this.subs.credit(topic, attachment, f.credit);
  }

  private onAck(session: ClientSession, f: AckFrame): void {
    const { topic, attachment } = this.attachmentOf(session, f.subId);
    this.subs.ack(topic, attachment, f.seq);
  }

  private onDetach(session: ClientSession, f: DetachFrame): void {
    const { attachment } = this.attachmentOf(session, f.subId);
    this.subs.detach(attachment);
    session.attachments.delete(f.subId);
    session.send(encodeFrame({ type: FrameType.OK, corr: f.corr }));
  }

  private onUnsubscribe(session: ClientSession, f: UnsubscribeFrame): void {
    checkSubscriptionName(f.subscription);
    this.withTopic(session, f.corr, f.topic, async (t) => {
      await this.subs.remove(t, f.subscription);
      session.send(encodeFrame({ type: FrameType.OK, corr: f.corr }));
    });
  }

  private onConfigure(session: ClientSession, f: ConfigureTopicFrame): void {
    this.withTopic(session, f.corr, f.topic, async (t) => {
      const retention: Retention = { retainCount: f.retainCount, retainMs: f.retainMs };
      await this.stores.metadata.put(topicConfigKey(t.name), JSON.stringify(retention), { fence: t.fence });
      t.retention = retention;
      session.send(encodeFrame({ type: FrameType.OK, corr: f.corr }));
    });
  }

  /** [P-6.5] Refused for a topic never seen, which is not created by asking. */
  private onDeleteTopic(session: ClientSession, f: DeleteTopicFrame): void {
    checkTopicName(f.topic);
    const known = this.topics.get(f.topic) ? Promise.resolve(true) : this.stores.log.bounds(f.topic).then((b) => b !== undefined);
    known.then((exists) => {
      if (!exists) throw new CorralError('UNKNOWN_TOPIC', `no topic ${f.topic}`);
      this.withTopic(session, f.corr, f.topic, async (t) => {
        await deleteTopic(t, this.subs, this.stores.metadata, this.stores.log);
        session.send(encodeFrame({ type: FrameType.OK, corr: f.corr }));
      });
    }).catch((err: unknown) => session.sendError(f.corr, asCorralError(err)));
  }

  private onQuery(session: ClientSession, f: QueryFrame): void {
    session.queryStarted();
    this.queries.answer(f.kind, f.args).then(
      (result) => session.send(encodeFrame({ type: FrameType.RESULT, corr: f.corr, json: JSON.stringify(result) })),
      (err: unknown) => session.sendError(f.corr, asCorralError(err)),
    ).finally(() => session.queryDone());
  }

  /**
   * Graceful handoff of a topic to another hub (rebalancing, shutdown): new
   * requests wait, the commit in flight finishes and is acknowledged, cursors
   * are written, the owner record moves to `to` under a higher epoch, and the
   * topic's clients are told the new address [P-6.4]. False if the topic stays.
   */
  async handOff(name: string, to: { hubId: string; address: string }): Promise<boolean> {
    const t = this.topics.get(name);
    if (!t) return false;
    const result = await this.topics.move(t, async () => {
      try {
        await this.committer.settled(t);
        await this.subs.flush();
        const owner = t.closed ? undefined : await this.ownership.transfer(name, t.epoch, to);
        if (!owner || owner.kind !== 'remote') return t;
        this.movedAway(t, owner);
        return owner;
      } catch (err) {
        this.logger.warn({ err, topic: name }, 'handoff failed; the topic stays');
        return t;
      }
    });
    return result !== t;
  }

  private movedAway(t: Topic, owner: RemoteOwner): void {
    const redirect = encodeFrame({ type: FrameType.REDIRECT, corr: 0, topic: t.name, hubId: owner.hubId, address: owner.address, epoch: owner.epoch });
    for (const s of this.sessions) {
      const attached = [...s.attachments.values()].some((a) => a.topic === t);
      if (attached || s.publishedTopics.has(t.name)) s.send(redirect);
      s.publishedTopics.delete(t.name);
    }
    this.unloadTopic(t, new CorralError('NOT_OWNER', `topic ${t.name} moved to hub ${owner.hubId} at ${owner.address}`));
  }

  /**
   * This hub may no longer own anything (its cluster lease lapsed): every
   * topic is dropped, its waiters and subscribers told, before it serves again.
   */
  dropAllTopics(err: CorralError): void {
    for (const t of [...this.topics.all()]) this.unloadTopic(t, err);
    this.services.dropAll();
  }

  private unloadTopic(t: Topic, err: CorralError): void {
    t.closed = true;
    const waiters = t.pendingWaiters;
    t.pendingRecords = [];
    t.pendingWaiters = [];
    for (const w of waiters) w.target.publishFailed(w.corr, err, w.bytes);
    for (const s of t.subscriptions.values()) {
      const att = s.attachment;
      if (att) {
        this.subs.detach(att);
        att.target.subscriptionEnded(att.subId, err);
      }
    }
    this.topics.unload(t).catch((e: unknown) => this.logger.warn({ err: e, topic: t.name }, 'release failed'));
  }

  /** Every subscription of the loaded topics with its backlog, largest first. */
  private backlogs(): Array<{ topic: string; subscription: string; backlog: number }> {
    const all: Array<{ topic: string; subscription: string; backlog: number }> = [];
    for (const t of this.topics.all()) {
      for (const s of t.subscriptions.values()) all.push({ topic: t.name, subscription: s.name, backlog: t.committedSeq - s.ackedSeq });
    }
    return all.sort((a, b) => b.backlog - a.backlog);
  }

  private registerGauges(): void {
    this.metrics.addCollector('corral_topics', 'Topics loaded on this hub', [], (g) => g.set(this.topics.size));
    this.metrics.addCollector('corral_outbound_bytes', 'Bytes queued to client connections that the kernel has not taken yet (the outbound budget limits it)', [], (g) => {
      g.set(this.outboundBudget.queuedBytes);
    });
    this.metrics.addCollector('corral_outbound_bytes_largest', 'Bytes queued to the one connection holding the most', [], (g) => {
      let largest = 0;
      for (const s of this.sessions) largest = Math.max(largest, s.queuedBytes);
      g.set(largest);
    });
    this.metrics.addCollector('corral_connections_reading_paused', 'Connections the hub reads nothing from for now (backpressure)', [], (g) => {
      let paused = 0;
      for (const s of this.sessions) if (s.readingIsPaused) paused++;
      g.set(paused);
    });
    this.metrics.addCollector('corral_connections_deliveries_held', 'Connections whose deliveries wait because the outbound budget is spent', [], (g) => {
      g.set(this.outboundBudget.heldConnections);
    });
    // One series per subscription would grow with the topics: only the largest
    // backlogs get their own series; the totals cover every subscription.
    const shown = this.tuning.metricsSubscriptions;
    this.metrics.addCollector('corral_subscription_backlog', `Messages not yet acknowledged, for the ${shown} subscriptions with the largest backlogs`, ['topic', 'subscription'], (g) => {
      g.reset();
      for (const b of this.backlogs().slice(0, shown)) g.set({ topic: b.topic, subscription: b.subscription }, b.backlog);
    });
    this.metrics.addCollector('corral_subscriptions', 'Subscriptions of the topics loaded on this hub', [], (g) => g.set(this.backlogs().length));
    this.metrics.addCollector('corral_backlog_messages', 'Messages not yet acknowledged, summed over every subscription of the topics loaded on this hub', [], (g) => {
      g.set(this.backlogs().reduce((n, b) => n + b.backlog, 0));
    });
  }
}
