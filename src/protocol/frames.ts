import type { FrameType } from './frame-type.js';

/** Where a new subscription starts reading [P-5.2]. Ignored when it already exists. */
export type StartPosition = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'seq'; seq: number };

export interface HelloFrame {
  type: typeof FrameType.HELLO;
  version: number;
  token: string;
  client: string;
  /** Optional capabilities the client asks for; room for TLS, permissions, compression. */
  features: string[];
}
export interface WelcomeFrame {
  type: typeof FrameType.WELCOME;
  version: number;
  hubId: string;
  maxFrameBytes: number;
  maxPayloadBytes: number;
  maxSubscriptions: number;
  features: string[];
}
export interface PingFrame { type: typeof FrameType.PING; id: number }
export interface PongFrame { type: typeof FrameType.PONG; id: number }
export interface GoodbyeFrame { type: typeof FrameType.GOODBYE; code: number; reason: string }
export interface ErrorFrame {
  type: typeof FrameType.ERROR;
  /** Correlation id of the failed request, 0 when the error is not a reply. */
  corr: number;
  /** Subscription handle the error ends, 0 when none. */
  subId: number;
  code: number;
  message: string;
}
export interface OkFrame { type: typeof FrameType.OK; corr: number }
export interface RedirectFrame {
  type: typeof FrameType.REDIRECT;
  corr: number;
  topic: string;
  hubId: string;
  /** host:port of the owner. */
  address: string;
  epoch: number;
}
export interface PublishFrame {
  type: typeof FrameType.PUBLISH;
  corr: number;
  topic: string;
  key: Buffer | undefined;
  /** Producer id + sequence let the hub drop a retried publish [P-4.4]. */
  producerId: string | undefined;
  producerSeq: number;
  payload: Buffer;
  /**
   * [P-4.6] The producer sequence of the same producer's publish to the topic
   * that must be stored before this one (0: none); undefined when the frame
   * does not carry the field (a client without PUBLISH_ORDER_FEATURE).
   */
  afterSeq?: number | undefined;
}
/** PUBLISH_ACK's `duplicate` field [P-8.10]: was the publish stored, or was it a retry [P-4.4]. */
export const Duplicate = {
  /** Stored now; `seq` is its sequence number. */
  NO: 0,
  /** A retry of a stored publish; `seq` is the original's (0 only from a hub or session without DEDUP_UNKNOWN_FEATURE: not known). */
  YES: 1,
  /** A retry whose original the hub no longer knows (trimmed, or outside the de-duplication window); `seq` is 0. */
  ORIGINAL_UNKNOWN: 2,
} as const;
export type Duplicate = (typeof Duplicate)[keyof typeof Duplicate];

/**
 * [P-1.4] The feature under which a hub answers a retry whose original it no
 * longer knows with Duplicate.ORIGINAL_UNKNOWN; without it, the version 1
 * answer: Duplicate.YES with seq 0 [P-4.4].
 */
export const DEDUP_UNKNOWN_FEATURE = 'dedup-unknown';

/**
 * [P-1.4] The feature under which a client's PUBLISH frames end with the
 * `afterSeq` field and the hub stores a publish only after the one it names
 * [P-4.6]; a client sends the field only to a hub that granted it.
 */
export const PUBLISH_ORDER_FEATURE = 'publish-order';

export interface PublishAckFrame {
  type: typeof FrameType.PUBLISH_ACK;
  corr: number;
  seq: number;
  duplicate: Duplicate;
}
export interface SubscribeFrame {
  type: typeof FrameType.SUBSCRIBE;
  corr: number;
  /** Handle chosen by the client, unique among its attached subscriptions. */
  subId: number;
  topic: string;
  subscription: string;
  start: StartPosition;
  credit: number;
}
export interface SubscribedFrame {
  type: typeof FrameType.SUBSCRIBED;
  corr: number;
  subId: number;
  /** Everything up to here is acknowledged; delivery resumes after it. */
  ackedSeq: number;
  lastSeq: number;
}
export interface DeliverFrame {
  type: typeof FrameType.DELIVER;
  subId: number;
  seq: number;
  timestamp: number;
  key: Buffer | undefined;
  payload: Buffer;
}
export interface CreditFrame { type: typeof FrameType.CREDIT; subId: number; credit: number }
export interface AckFrame { type: typeof FrameType.ACK; subId: number; seq: number }
export interface DetachFrame { type: typeof FrameType.DETACH; corr: number; subId: number }
export interface UnsubscribeFrame { type: typeof FrameType.UNSUBSCRIBE; corr: number; topic: string; subscription: string }
export interface DeleteTopicFrame { type: typeof FrameType.DELETE_TOPIC; corr: number; topic: string }
export interface ConfigureTopicFrame {
  type: typeof FrameType.CONFIGURE_TOPIC;
  corr: number;
  topic: string;
  /** Retention: keep at least this many messages even when acknowledged (0 = none). */
  retainCount: number;
  /** Retention: keep acknowledged messages younger than this (0 = none). */
  retainMs: number;
}
export interface QueryFrame { type: typeof FrameType.QUERY; corr: number; kind: string; args: string }
export interface ResultFrame { type: typeof FrameType.RESULT; corr: number; json: string }
/** A frame in a service's range: the owning service decodes `body` itself. */
export interface ServiceFrame { type: number; service: string; corr: number; body: Buffer }

export type CoreFrame =
  | HelloFrame | WelcomeFrame | PingFrame | PongFrame | GoodbyeFrame | ErrorFrame | OkFrame | RedirectFrame
  | PublishFrame | PublishAckFrame | SubscribeFrame | SubscribedFrame | DeliverFrame | CreditFrame | AckFrame
  | DetachFrame | UnsubscribeFrame | ConfigureTopicFrame | DeleteTopicFrame | QueryFrame | ResultFrame;

export type Frame = CoreFrame | ServiceFrame;

export const PROTOCOL_VERSION = 1;
