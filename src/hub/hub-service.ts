import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CorralError } from '../protocol/corral-error.js';
import type { Frame } from '../protocol/frames.js';
import type { ServiceMessage } from '../protocol/service-envelope.js';
import type { Stores } from '../store/stores.js';
import type { Clock } from './clock.js';
import type { PeerAccess } from './peer-access.js';
import type { Ownership } from './ownership.js';
import type { ResourceState } from './resource-state.js';

/** What a service sees of a client connection. */
export interface ServiceConnection {
  readonly id: number;
  send(frame: Frame | Buffer): void;
  sendError(corr: number, err: CorralError): void;
  /** Called once when the connection closes. */
  onClose(listener: () => void): void;
}

/** One message of a topic, as a service consuming it sees it. */
export interface LocalMessage {
  seq: number;
  timestamp: number;
  key: Buffer | undefined;
  payload: Buffer;
}

/** A service's durable subscription inside the hub; the subscription acknowledges each message once its handler resolves. */
export interface LocalSubscription {
  close(): void;
}

/** Topics from inside the hub: services talk over ordinary topics. */
export interface LocalTopics {
  publish(topic: string, payload: Buffer, key?: Buffer): Promise<number>;
  /**
   * Attaches a durable subscription of a topic this hub owns (NOT_OWNER
   * otherwise); messages reach `onMessage` in order, one at a time.
   */
  subscribe(topic: string, subscription: string, onMessage: (m: LocalMessage) => Promise<void>): Promise<LocalSubscription>;
}

export interface HubContext {
  hubId: string;
  stores: Stores;
  ownership: Ownership;
  topics: LocalTopics;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
  /**
   * A connection into this hub as a client opens one, for a service that is a
   * client of its own cluster: pass it as a client's transport (requests for
   * resources other hubs own are redirected as any client's are).
   */
  loopback(): Duplex;
  /** How a service that is a client of its cluster presents itself to the other hubs it is redirected to. */
  peer: PeerAccess;
}

/**
 * A resource this hub owns for a service [P-11.2], at the fencing epoch of
 * its ownership record. `state` is the service's stored state for it, fenced
 * by that epoch [P-11.4].
 */
export interface OwnedResource {
  readonly resource: string;
  readonly epoch: number;
  readonly state: ResourceState;
}

/** One request for a resource this hub owns. */
export interface ServiceRequest {
  readonly message: ServiceMessage;
  readonly owned: OwnedResource;
  readonly from: ServiceConnection;
  /** Answers with a frame of the service's range carrying the request's corr and resource. */
  reply(type: number, payload: Buffer): void;
}

/**
 * A capability plugged into the hub (clock, sync, counters, gates, naming,
 * bridges). It owns one frame range of the protocol [P-2.3] and resources of
 * the kinds it declares; the core routes its frames to it only for resources
 * this hub owns, redirects the rest, and tells it when it gains, hands off or
 * loses one. docs/services.md shows how to write one.
 */
export interface HubService {
  /** The range's service name in SERVICE_RANGES; also the HELLO/WELCOME feature [P-1.4]. */
  readonly name: string;
  /** Resource kinds: requests name `<kind>|<name>` [P-11.2]. */
  readonly kinds: readonly string[];
  /** Checks a resource name beyond `<kind>|<name>` before the hub takes ownership of it; throws the error the client gets. */
  checkResource?(resource: string): void;
  start(ctx: HubContext): Promise<void>;
  /** This hub now owns the resource; its requests wait until this resolves. */
  gained(owned: OwnedResource): Promise<void>;
  /** Graceful handoff [P-11.3]: write what the next owner needs; requests wait meanwhile. */
  handingOff(owned: OwnedResource): Promise<void>;
  /** Ownership is gone (lease lost, fenced): stop serving it at once and write nothing more. */
  lost(owned: OwnedResource): void;
  handle(req: ServiceRequest): Promise<void> | void;
  /** Load of one owned resource in topic units (an idle topic = 1), for rebalancing. */
  load(owned: OwnedResource): number;
  /** Extra QUERY kinds [P-7.1]; names must not clash with the core's. */
  readonly queries?: Readonly<Record<string, (args: string) => Promise<unknown>>>;
  /** Admin GET routes under /api/<name>/<route>, answered as JSON. */
  readonly routes?: Readonly<Record<string, () => Promise<unknown>>>;
  /** After the last frame reached it: release timers, write final state. */
  stop(): Promise<void>;
}
