import { EventEmitter } from 'node:events';
import type { ServiceChannel } from '../../client/service-channel.js';
import { CorralError } from '../../protocol/corral-error.js';
import { decodeTicketReply, encodeTicketRequest, GateFrame, parseTicket, TicketState, type TicketReply } from './gate-frames.js';
import { GateSlot } from './gate-slot.js';

export interface GatePosition {
  /** 1 = next to be admitted; 0 while prequeued (before the gate opens). */
  position: number;
  /** Everyone waiting in the gate's queue. */
  waiting: number;
}

export interface GateWaiterEvents {
  position: [p: GatePosition];
  admitted: [slot: GateSlot];
  /** The place is gone (GATE_DRAINED, TICKET_EXPIRED, INVALID_TICKET): `admitted` rejects with it. */
  expelled: [err: CorralError];
}

/** Ends the wait: the gate says this ticket has no place. */
const GONE = new Set(['TICKET_EXPIRED', 'INVALID_TICKET', 'UNKNOWN_GATE', 'GATE_DRAINED']);

/**
 * A place in a gate's queue [P-15.4]: positions arrive as `position`
 * events (or from `positions()`), `admitted` resolves with the slot. The
 * waiter is heard from at the gate every third of its grace period (and
 * after a reconnect), which also re-attaches it to the owner that pushes to
 * it; its `ticket` resumes the wait from any client (`Gate.resume`).
 */
export class GateWaiter extends EventEmitter<GateWaiterEvents> {
  readonly seq: number;
  readonly ticket: string;
  readonly admitted: Promise<GateSlot>;
  position: number;
  waiting: number;
  private settle!: { resolve: (s: GateSlot) => void; reject: (e: CorralError) => void };
  private slot: GateSlot | undefined;
  private done = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly channel: ServiceChannel, readonly resource: string, first: TicketReply, private readonly onDone: (w: GateWaiter) => void) {
    super();
    this.seq = parseTicket(first.ticket).seq;
    this.ticket = first.ticket;
    this.position = first.position;
    this.waiting = first.waiting;
    this.admitted = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    // Unobserved rejections (a waiter cancelled) must not crash the process.
    this.admitted.catch(() => undefined);
    this.timer = setInterval(() => this.heartbeat(), Math.max(50, Math.min(10_000, Math.floor(first.graceMs / 3))));
    this.timer.unref();
    this.apply(first);
  }

  get isDone(): boolean {
    return this.done;
  }

  /** Sends WAIT now: renews the grace period and brings the current position. */
  heartbeat(): void {
    if (this.done) return;
    this.channel.request(GateFrame.WAIT, this.resource, encodeTicketRequest(this.ticket))
      .then((m) => this.apply(decodeTicketReply(m.payload)), (err: unknown) => {
        if (err instanceof CorralError && GONE.has(err.code)) this.expel(err);
      });
  }

  /** A TICKET reply or a pushed change. */
  apply(t: TicketReply): void {
    if (t.state === TicketState.ADMITTED) this.admit(t.admission, t.leaseMs);
    else this.moved(t.position, t.waiting);
  }

  moved(position: number, waiting: number): void {
    if (this.done) return;
    this.waiting = waiting;
    if (position === this.position) return;
    this.position = position;
    this.emit('position', { position, waiting });
  }

  admit(admission: number, leaseMs: number): void {
    if (this.done) return;
    this.finish();
    this.slot = new GateSlot(this.channel, this.resource, this.ticket, admission, leaseMs);
    this.position = 0;
    this.settle.resolve(this.slot);
    this.emit('admitted', this.slot);
  }

  expel(err: CorralError): void {
    if (this.done) return;
    this.finish();
    this.settle.reject(err);
    this.emit('expelled', err);
  }

  /** Leaves the queue (releases the slot if admitted meanwhile). */
  async cancel(): Promise<void> {
    const slot = this.slot;
    if (!this.done) this.expel(new CorralError('CLIENT_CLOSED', 'the wait was cancelled'));
    slot?.stop();
    await this.channel.request(GateFrame.CANCEL, this.resource, encodeTicketRequest(this.ticket));
  }

  /** Positions as they change, ending once admitted; throws if the place is lost. */
  async *positions(): AsyncGenerator<GatePosition> {
    const queue: GatePosition[] = [{ position: this.position, waiting: this.waiting }];
    let wake: (() => void) | undefined;
    const onPosition = (p: GatePosition): void => { queue.push(p); wake?.(); };
    const onEnd = (): void => wake?.();
    this.on('position', onPosition);
    this.on('admitted', onEnd);
    this.on('expelled', onEnd);
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (this.done) break;
        await new Promise<void>((r) => { wake = r; });
        wake = undefined;
      }
      await this.admitted;
    } finally {
      this.off('position', onPosition);
      this.off('admitted', onEnd);
      this.off('expelled', onEnd);
    }
  }

  private finish(): void {
    this.done = true;
    clearInterval(this.timer);
    this.onDone(this);
  }
}
