import { CorralError } from '../protocol/corral-error.js';
import { encodeAck, encodeFrame } from '../protocol/encode.js';
import { FrameType } from '../protocol/frame-type.js';
import type { DeliverFrame, StartPosition, SubscribedFrame } from '../protocol/frames.js';
import { Fifo } from './fifo.js';
import type { ControlChannel, ControlWriter } from './hub-connection.js';
import { Message, type Acknowledger } from './message.js';

/** What a subscription needs from its client. */
export interface SubscriptionOwner {
  /** Forgets the subscription and sends DETACH on `channel` when it is attached there. Never rejects. */
  detach(sub: Subscription, channel: ControlChannel | undefined): Promise<void>;
}

interface Waiter {
  resolve(r: IteratorResult<Message, undefined>): void;
  reject(err: unknown): void;
}

const DONE: IteratorResult<Message, undefined> = { value: undefined, done: true };

/**
 * One attachment of a durable subscription, as an async iterator of messages.
 * It holds at most `credit` messages: the hub sends only within the credit
 * granted [P-5.3], and credit is granted again as the application takes
 * messages. Acks are cumulative [P-5.4] and coalesced into one ACK per turn.
 * After a re-attach the hub redelivers what was not acknowledged [P-5.5];
 * what this object already handed out is dropped, so the application sees
 * each seq once and in order.
 */
export class Subscription implements AsyncIterableIterator<Message>, ControlWriter, Acknowledger {
  /** attaching: a SUBSCRIBE is pending; attached: `channel` delivers; closed: done. */
  state: 'attaching' | 'attached' | 'closed' = 'attaching';
  /** The connection it is attached on. */
  channel: ControlChannel | undefined;
  /** Consecutive attachments ended by a retryable error; reset when one succeeds. */
  reattachFailures = 0;
  private readonly buffer = new Fifo<Message>();
  private readonly waiters = new Fifo<Waiter>();
  private readonly grantThreshold: number;
  /** Messages taken by the application (or dropped as already seen) since the last CREDIT. */
  private grantable = 0;
  private highestSeen = 0;
  private ackWanted = 0;
  private ackSent = 0;
  private failure: CorralError | undefined;
  private queuedOn: ControlChannel | undefined;

  constructor(
    private readonly owner: SubscriptionOwner,
    readonly topic: string,
    readonly name: string,
    /** The handle on the wire, unique within the client. */
    readonly subId: number,
    private readonly from: StartPosition,
    /** Most messages delivered and not yet taken by the application. */
    readonly credit: number,
  ) {
    this.grantThreshold = Math.max(1, Math.floor(credit / 2));
  }

  /** Messages received and not yet taken by the application. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Acknowledges every message up to and including seq [P-5.4]; the same as msg.ack(). */
  ack(seq: number): void {
    if (this.state === 'closed') return;
    if (!Number.isSafeInteger(seq) || seq > this.highestSeen) {
      throw new CorralError('INVALID_ARGUMENT', `cannot acknowledge seq ${seq}: the highest delivered on ${this.topic}/${this.name} is ${this.highestSeen}`);
    }
    if (seq > this.ackWanted) {
      this.ackWanted = seq;
      this.queueControl();
    }
  }

  /** DETACH: stop receiving; the durable subscription stays and keeps collecting messages [P-5.6]. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const channel = this.state === 'attached' ? this.channel : undefined;
    // Acks given before closing leave ahead of the DETACH.
    if (channel) this.writeControl(channel);
    this.end(undefined);
    await this.owner.detach(this, channel);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Message, undefined>> {
    const msg = this.buffer.shift();
    if (msg !== undefined) {
      this.taken();
      return Promise.resolve({ value: msg, done: false });
    }
    const failure = this.failure;
    if (failure !== undefined) {
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.state === 'closed') return Promise.resolve(DONE);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** `break` out of `for await`: detaches. */
  async return(): Promise<IteratorResult<Message, undefined>> {
    await this.close();
    return DONE;
  }

  // ---- driven by the client

  /** Where a (re-)attach starts [P-5.2]: only used when the subscription does not exist (any more). */
  startPosition(): StartPosition {
    return this.highestSeen > 0 ? { kind: 'seq', seq: this.highestSeen + 1 } : this.from;
  }

  /** Credit of a new attachment: the window minus what is still buffered. */
  attachCredit(): number {
    this.grantable = 0;
    return this.credit - this.buffer.length;
  }

  attached(channel: ControlChannel, f: SubscribedFrame): void {
    this.state = 'attached';
    this.channel = channel;
    this.reattachFailures = 0;
    this.ackSent = f.ackedSeq;
    // Acks the hub lost (not yet written when it crashed), and acks given while detached
    // (between a handoff and this re-attach [P-6.4]), are sent on the new attachment.
    if (this.ackWanted > this.ackSent || this.grantable >= this.grantThreshold) this.queueControl();
  }

  /** The attachment is gone (connection lost, or ended by a retryable error [P-6.4]); a re-attach follows. The iterator carries on. */
  detached(): void {
    this.state = 'attaching';
    this.channel = undefined;
  }

  deliver(f: DeliverFrame): void {
    if (this.state !== 'attached') return;
    if (f.seq <= this.highestSeen) {
      this.taken();
      return;
    }
    this.highestSeen = f.seq;
    const msg = new Message(this, this.topic, f.seq, f.timestamp, f.key, f.payload);
    const w = this.waiters.shift();
    if (w === undefined) {
      this.buffer.push(msg);
      return;
    }
    this.taken();
    w.resolve({ value: msg, done: false });
  }

  /** Ends the iterator: with `err` the next `next()` rejects with it, otherwise it is done. Buffered messages are dropped. */
  end(err: CorralError | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.channel = undefined;
    this.buffer.clear();
    let rejected = false;
    for (let w = this.waiters.shift(); w !== undefined; w = this.waiters.shift()) {
      if (err) {
        w.reject(err);
        rejected = true;
      } else {
        w.resolve(DONE);
      }
    }
    if (err && !rejected) this.failure = err;
  }

  writeControl(channel: ControlChannel): void {
    if (this.queuedOn === channel) this.queuedOn = undefined;
    if (channel !== this.channel || this.state !== 'attached') return;
    if (this.ackWanted > this.ackSent) {
      channel.write(encodeAck(this.subId, this.ackWanted));
      this.ackSent = this.ackWanted;
    }
    if (this.grantable >= this.grantThreshold) {
      channel.write(encodeFrame({ type: FrameType.CREDIT, subId: this.subId, credit: this.grantable }));
      this.grantable = 0;
    }
  }

  private taken(): void {
    if (++this.grantable >= this.grantThreshold) this.queueControl();
  }

  private queueControl(): void {
    const channel = this.channel;
    if (channel === undefined || this.state !== 'attached' || this.queuedOn === channel) return;
    this.queuedOn = channel;
    channel.queueControl(this);
  }
}
