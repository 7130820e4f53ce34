/**
 * What a workload needs from a messaging system. Every workload is written
 * once against these interfaces; an adapter per system (Corral, NATS
 * JetStream, Redis Streams, Mosquitto) maps them onto that system's own
 * notions of topic, durable subscription and acknowledgement.
 *
 * Names given to adapters use only [a-z0-9-], so every system accepts them
 * as they are or with a prefix.
 */

export interface Delivery {
  readonly payload: Uint8Array;
  /** Acknowledges this message (and, where the system acks cumulatively, those before it). */
  ack(): void;
}

export interface Consumption {
  /** Stops delivery; the subscription itself stays and keeps collecting messages. */
  stop(): Promise<void>;
}

/**
 * One client connection. A subscription belongs to the client name that
 * created it: MQTT ties subscriptions to a session, and a session to a client
 * id, so workloads consume a subscription from a client of the same name.
 */
export interface BenchClient {
  /** Creates a durable subscription that keeps every message published from now on, without consuming any. */
  createSubscription(topic: string, subscription: string): Promise<void>;
  /** Resolves when the system has acknowledged the message as stored. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /**
   * Consumes a subscription (created here, from "now", if it does not exist),
   * calling `onMessage` for every delivery in order. Resolves once the
   * subscription is attached.
   */
  consume(topic: string, subscription: string, onMessage: (d: Delivery) => void): Promise<Consumption>;
  close(): Promise<void>;
}

export interface ServerMemory {
  /** The server's own figures where it reports them (Corral: /api/stats memory), bytes. */
  reported: { rss: number; heapUsed: number } | undefined;
  /** VmRSS from /proc/<pid>/status, bytes. */
  vmRss: number;
  /** VmHWM (peak resident set) from /proc/<pid>/status, bytes. */
  vmHwm: number;
}

/** What the server process has spent so far, read before and after a workload. */
export interface ServerCounters {
  /** Bytes the server process caused to be written to storage (`write_bytes` of /proc/<pid>/io: whole pages as they are dirtied). */
  bytesWritten: number;
  /** The server's event-loop delay p99 since the previous reading, ms, where it reports one (Corral). */
  eventLoopP99Ms: number | undefined;
  /** Group commits and the records in them since the server started, where it reports them (Corral). */
  commits: { count: number; records: number } | undefined;
}

/** A running server with a fresh, empty data directory. */
export interface BenchSystem {
  connect(name: string): Promise<BenchClient>;
  serverMemory(): Promise<ServerMemory>;
  /** Where the server is one process on this machine (not a cluster). */
  serverCounters?(): Promise<ServerCounters>;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

/** One configuration of a system that gets its own row in every table. */
export interface SystemVariant {
  /** "corral", "nats", "redis", "mosquitto". */
  system: string;
  /** How acknowledged messages are made durable, in a few words. */
  durability: string;
  start(): Promise<BenchSystem>;
}
