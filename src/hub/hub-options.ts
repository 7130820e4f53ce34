import type { AccessControl } from './access-control.js';
import type { Logger } from 'pino';
import type { Stores } from '../store/stores.js';
import type { Clock } from './clock.js';
import type { HubService } from './hub-service.js';
import type { Membership } from './membership.js';
import type { PeerAccess } from './peer-access.js';
import type { Ownership } from './ownership.js';

export interface HubLimits {
  /** Largest payload (and key) a publish may carry. */
  maxPayloadBytes: number;
  /** Largest frame the hub reads; larger length prefixes close the connection. */
  maxFrameBytes: number;
  maxSubscriptionsPerConnection: number;
  /** Unacknowledged publishes per connection before the hub stops reading from it. */
  maxPendingPublishesPerConnection: number;
  /** Payload bytes of unacknowledged publishes per connection before the hub stops reading from it. */
  maxPendingPublishBytesPerConnection: number;
  /** Outbound bytes queued per connection before deliveries pause. */
  maxOutboundBytes: number;
  /**
   * Bytes queued to all connections together before deliveries to the
   * connections holding the most pause (each connection past its share,
   * this divided by the connections), until the total falls under it.
   */
  outboundBudgetBytes: number;
  handshakeTimeoutMs: number;
  /** Protocol errors (non-retryable) one connection may cause before it is closed as hostile. */
  maxErrorsPerConnection: number;
  /** Connections served at once (handshaking ones included); past it a new one gets CONNECTION_LIMIT and is closed. */
  maxConnections: number;
  /** Largest frame read before the handshake: HELLO is small, and a stranger must not make the hub buffer a megabyte. */
  maxHandshakeFrameBytes: number;
  /**
   * Bytes of replies (every frame but DELIVER) queued to a connection and not
   * yet taken by the kernel before the hub stops reading from it; it reads
   * again once they fall to half. Deliveries pause at maxOutboundBytes instead.
   */
  maxQueuedReplyBytes: number;
  /**
   * While reading is paused with replies queued, a connection whose socket
   * takes nothing for this long is closed with SLOW_READER.
   */
  stallTimeoutMs: number;
  /** QUERYs one connection may have in progress; at the limit the hub reads no more from it until one is answered. */
  maxPendingQueriesPerConnection: number;
}

export interface HubTuning {
  /** Records per group commit, at most. */
  maxCommitRecords: number;
  /** In-memory tail per topic (messages), served to subscribers at the head without a store read. */
  tailMessagesPerTopic: number;
  /** All tails together stay under this many payload bytes. */
  tailBudgetBytes: number;
  /** Records fetched per catch-up read. */
  catchUpBatch: number;
  cursorFlushIntervalMs: number;
  gcIntervalMs: number;
  /** Records trimmed per topic per GC pass, so one pass never blocks the hub for long. */
  gcTrimChunk: number;
  /** Retention of a topic that has none of its own [P-6.2] (`corral start --retain-count/--retain-age`); zeros keep nothing. */
  defaultRetention: { retainCount: number; retainMs: number };
  /** Subscriptions with a backlog series of their own in /metrics, the largest backlogs first (`corral start --metrics-subscriptions`). */
  metricsSubscriptions: number;
  /** [P-4.4] a producer that published nothing new for this long is forgotten (`corral start --producer-idle`). */
  producerIdleMs: number;
  /** [P-4.4] producers remembered per topic, least recently used forgotten first (`--max-producers-per-topic`). */
  maxProducersPerTopic: number;
  /**
   * [P-4.4] how far below a producer's latest seq a retry's original is
   * looked up in the store, in bounded ranges of the primary key, once it is
   * older than what the hub keeps in memory.
   */
  dedupLookbackSeqs: number;
}

export interface HubOptions {
  hubId: string;
  stores: Stores;
  ownership: Ownership;
  logger: Logger;
  clock: Clock;
  /** Credentials clients must present in HELLO (docs/security.md); undefined = none required, everyone may do everything. */
  access: AccessControl | undefined;
  /** This hub toward the other hubs (default NO_PEER_ACCESS). */
  peer?: PeerAccess;
  /** Description for stats ("fsync", "process", …). */
  durability: string;
  limits?: Partial<HubLimits>;
  tuning?: Partial<HubTuning>;
  services?: HubService[];
  /** Cluster mode: this hub's registration, for the "hubs" query. */
  membership?: Membership;
}

export const DEFAULT_LIMITS: HubLimits = {
  maxPayloadBytes: 1024 * 1024,
  maxFrameBytes: 1024 * 1024 + 64 * 1024,
  maxSubscriptionsPerConnection: 1000,
  maxPendingPublishesPerConnection: 10_000,
  maxPendingPublishBytesPerConnection: 16 * 1024 * 1024,
  maxOutboundBytes: 4 * 1024 * 1024,
  outboundBudgetBytes: 256 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  maxErrorsPerConnection: 100,
  maxConnections: 10_000,
  maxHandshakeFrameBytes: 16 * 1024,
  maxQueuedReplyBytes: 64 * 1024,
  stallTimeoutMs: 30_000,
  maxPendingQueriesPerConnection: 16,
};

export const DEFAULT_TUNING: HubTuning = {
  maxCommitRecords: 20_000,
  tailMessagesPerTopic: 4096,
  tailBudgetBytes: 64 * 1024 * 1024,
  catchUpBatch: 1000,
  cursorFlushIntervalMs: 50,
  gcIntervalMs: 1000,
  gcTrimChunk: 50_000,
  defaultRetention: { retainCount: 0, retainMs: 0 },
  metricsSubscriptions: 100,
  // As Kafka's producer.id.expiration.ms (docs/decisions/producer-dedup.md).
  producerIdleMs: 24 * 60 * 60 * 1000,
  maxProducersPerTopic: 10_000,
  // A client's whole pipeline (maxPendingPublishesPerConnection) even when others publish in between.
  dedupLookbackSeqs: 100_000,
};
