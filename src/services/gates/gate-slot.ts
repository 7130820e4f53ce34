import { EventEmitter } from 'node:events';
import type { ServiceChannel } from '../../client/service-channel.js';
import { CorralError } from '../../protocol/corral-error.js';
import { encodeTicketRequest, GateFrame } from './gate-frames.js';

export interface GateSlotEvents {
  /** The slot is gone: its lease lapsed before a renewal reached the gate (SLOT_NOT_HELD, TICKET_EXPIRED). */
  lost: [err: CorralError];
}

/** Gives up on renewing: the gate said the slot is not this ticket's any more. */
const GONE = new Set(['SLOT_NOT_HELD', 'TICKET_EXPIRED', 'INVALID_TICKET', 'UNKNOWN_GATE']);

/**
 * A slot of a gate held by this process [P-15.4]: its lease is renewed
 * automatically (every third of the lease) until `release`; if a renewal is
 * refused because the lease already lapsed, `lost` fires.
 */
export class GateSlot extends EventEmitter<GateSlotEvents> {
  private timer: NodeJS.Timeout | undefined;
  private held = true;

  constructor(
    private readonly channel: ServiceChannel,
    readonly resource: string,
    /** The signed ticket: RENEW, RELEASE and CANCEL name it, from any client. */
    readonly ticket: string,
    /** The admission's number in the gate's order. */
    readonly admission: number,
    readonly leaseMs: number,
  ) {
    super();
    this.timer = setInterval(() => { this.renew().catch(() => undefined); }, Math.max(50, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Extends the lease now (the slot also does so on its own). */
  async renew(): Promise<void> {
    try {
      await this.channel.request(GateFrame.RENEW, this.resource, encodeTicketRequest(this.ticket));
    } catch (err) {
      if (err instanceof CorralError && GONE.has(err.code) && this.held) {
        this.stop();
        this.emit('lost', err);
      }
      throw err;
    }
  }

  /** Gives the slot back: the next waiter is admitted. SLOT_NOT_HELD when it had lapsed already. */
  async release(): Promise<void> {
    this.stop();
    await this.channel.request(GateFrame.RELEASE, this.resource, encodeTicketRequest(this.ticket));
  }

  /** Stops renewing without releasing (the lease then lapses at the gate). */
  stop(): void {
    this.held = false;
    clearInterval(this.timer);
  }
}
