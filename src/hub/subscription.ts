import type { CorralError } from '../protocol/corral-error.js';
import type { LogRecord } from '../store/message-log.js';
import { metaKey } from '../store/metadata-store.js';

/** Where an attached subscription's messages go (a client connection). */
export interface DeliveryTarget {
  /** False while the connection's outbound buffer is full. */
  readonly writable: boolean;
  deliver(subId: number, rec: LogRecord): void;
  /** The attachment ended from the hub's side (taken over, deleted, topic moved). */
  subscriptionEnded(subId: number, err: CorralError): void;
}

/** A subscription attached to a connection under the client's handle `subId`. */
export class Attachment {
  /** Messages the client still accepts [P-5.3]. */
  credit: number;
  /** Next seq to send. */
  nextSeq: number;
  /** A catch-up read from the store is in flight. */
  reading = false;
  detached = false;

  constructor(
    readonly target: DeliveryTarget,
    readonly subId: number,
    readonly subscription: Subscription,
    credit: number,
  ) {
    this.credit = credit;
    this.nextSeq = subscription.ackedSeq + 1;
  }
}

/** A durable subscription: everything up to ackedSeq is acknowledged. */
export class Subscription {
  attachment: Attachment | undefined;
  /** The ackedSeq last written to the metadata store. */
  persistedAck: number;

  constructor(
    readonly topic: string,
    readonly name: string,
    public ackedSeq: number,
    readonly createdAt: number,
  ) {
    this.persistedAck = ackedSeq;
  }

  get key(): string {
    return subscriptionKey(this.topic, this.name);
  }

  encode(): string {
    return JSON.stringify({ ackedSeq: this.ackedSeq, createdAt: this.createdAt });
  }

  static decode(topic: string, name: string, value: string): Subscription {
    const v = JSON.parse(value) as { ackedSeq: number; createdAt: number };
    return new Subscription(topic, name, v.ackedSeq, v.createdAt);
  }
}

export function subscriptionKey(topic: string, name: string): string {
  return metaKey('sub', topic, name);
}

export function subscriptionPrefix(topic: string): string {
  return metaKey('sub', topic, '');
}
