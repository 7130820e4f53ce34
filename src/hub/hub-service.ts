import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CorralError } from '../protocol/corral-error.js';
import type { Frame, ServiceFrame } from '../protocol/frames.js';
import type { Stores } from '../store/stores.js';
import type { Clock } from './clock.js';
import type { Ownership } from './ownership.js';

/** What a service sees of a client connection. */
export interface ServiceConnection {
  readonly id: number;
  send(frame: Frame): void;
  sendError(corr: number, err: CorralError): void;
  /** Called once when the connection closes. */
  onClose(listener: () => void): void;
}

/** Publishing from inside the hub: services talk over ordinary topics. */
export interface LocalTopics {
  publish(topic: string, payload: Buffer, key?: Buffer): Promise<number>;
}

export interface HubContext {
  hubId: string;
  stores: Stores;
  ownership: Ownership;
  topics: LocalTopics;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
}

/**
 * A capability plugged into the hub (sync, counters, gates, naming, bridges).
 * It owns one frame range of the protocol [P-2.3]; the core routes every frame
 * of that range to it and knows nothing else about it.
 */
export interface HubService {
  readonly name: string;
  /** Must be the service's range in SERVICE_RANGES. */
  readonly service: string;
  start(ctx: HubContext): Promise<void>;
  handle(frame: ServiceFrame, from: ServiceConnection): Promise<void> | void;
  stop(): Promise<void>;
}
