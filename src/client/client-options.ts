import type { ClientTlsOptions, Transport } from './transport.js';

export interface ReconnectOptions {
  /** Delay before the first reconnect attempt (default 100 ms); it doubles per attempt, with jitter. */
  initialDelayMs?: number;
  /** Longest delay between attempts (default 5 s). */
  maxDelayMs?: number;
  /** Attempts before the client gives up and fails everything with CONNECTION_CLOSED (default Infinity). */
  maxAttempts?: number;
}

export interface ConnectOptions {
  /** Shared secret sent in HELLO [P-1.2]. */
  token?: string;
  /** Client name in HELLO, for the hub's logs and statistics. */
  name?: string;
  /** A request not answered within this time rejects with TIMEOUT (default 30 s). */
  requestTimeoutMs?: number;
  /** Time to connect and complete the handshake with one hub (default 10 s). */
  connectTimeoutMs?: number;
  /** Time without a frame from a hub after which a PING checks it is alive (default 1 s) [P-1.6]. */
  pingIntervalMs?: number;
  /**
   * A hub that sends nothing for this long after a PING (or no WELCOME this
   * long after connecting) is taken as hung (default 2 s): the client leaves
   * it and re-sends what was unanswered elsewhere, publishes with their
   * producer sequence so none is stored twice [P-4.4].
   */
  pingTimeoutMs?: number;
  reconnect?: ReconnectOptions;
  /** TLS for `corrals://` hubs: whom to trust (default: the system's CAs). */
  tls?: ClientTlsOptions;
  /** How to open a byte stream to a hub (default: TCP, or TLS for `corrals://`). */
  transport?: Transport;
}

export interface PublishOptions {
  /** Stored and delivered with the message [P-4.1]. */
  key?: Uint8Array | string;
}

/** Where a new subscription starts [P-5.2]: the oldest stored message, the next one published, or a seq. */
export type StartFrom = 'earliest' | 'latest' | number;

export interface SubscribeOptions {
  /** Only used when the subscription is created (default 'latest'). */
  from?: StartFrom;
  /** Most messages in flight to this subscriber and buffered unread (default 1000) [P-5.3]. */
  credit?: number;
}

export interface RetentionOptions {
  /** Keep at least this many newest messages, acknowledged or not; 0 = no count rule [P-6.2]. */
  retainCount?: number;
  /** Keep messages younger than this many ms; 0 = no age rule. */
  retainMs?: number;
}
