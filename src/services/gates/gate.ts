import { randomBytes } from 'node:crypto';
import type { Client } from '../../client/client.js';
import type { ServiceChannel } from '../../client/service-channel.js';
import { CorralError } from '../../protocol/corral-error.js';
import { errorCodeFromWire } from '../../protocol/error-codes.js';
import type { ServiceMessage } from '../../protocol/service-envelope.js';
import {
  decodeAdmitted, decodeExpelled, decodePositions, decodeStatus, decodeTicketReply, encodeAcquire, encodeConfigure, encodeTicketRequest,
  gateResource, GateFrame, parseTicket, type GateConfig, type GateStatus,
} from './gate-frames.js';
import type { GateSlot } from './gate-slot.js';
import { GateWaiter, type GatePosition } from './gate-waiter.js';

export interface AcquireOptions {
  /** Priority class (0, the default, is served first). */
  priority?: number;
  /** Told every position change while waiting. */
  onPosition?: (p: GatePosition) => void;
  /** Aborting leaves the queue; `acquire` rejects. */
  signal?: AbortSignal;
}

/**
 * A gate seen from a client [P-15]: `acquire()` resolves with a slot once
 * admitted, reporting positions meanwhile; `enqueue()` gives the waiter
 * itself (events, an async iterator, a ticket to carry to another server);
 * `resume(ticket)` takes a place over from another client. The settings
 * calls (`create`, `set`, `status`, `drain`) are for operators.
 *
 * ```ts
 * const slot = await Gate.open(client, 'checkout').acquire({ onPosition: (p) => show(p.position) });
 * try { await serve(); } finally { await slot.release(); }
 * ```
 */
export class Gate {
  readonly resource: string;
  private readonly channel: ServiceChannel;
  private readonly waiters = new Map<number, GateWaiter>();
  private readonly onPush = (m: ServiceMessage): void => this.pushed(m);
  private readonly onReconnect = (): void => { for (const w of this.waiters.values()) w.heartbeat(); };

  private constructor(private readonly client: Client, readonly name: string) {
    this.resource = gateResource(name);
    this.channel = client.service('gates');
    this.channel.on('push', this.onPush);
    client.on('reconnect', this.onReconnect);
  }

  static open(client: Client, name: string): Gate {
    return new Gate(client, name);
  }

  /** Waits for a slot: resolves once admitted (at once if a slot is free). */
  async acquire(opts: AcquireOptions = {}): Promise<GateSlot> {
    const w = await this.enqueue(opts);
    if (opts.onPosition) {
      if (!w.isDone) opts.onPosition({ position: w.position, waiting: w.waiting });
      w.on('position', opts.onPosition);
    }
    const abort = (): void => { w.cancel().catch(() => undefined); };
    opts.signal?.addEventListener('abort', abort, { once: true });
    try {
      return await w.admitted;
    } finally {
      opts.signal?.removeEventListener('abort', abort);
    }
  }

  /** Joins the queue and returns the waiter (already admitted if a slot was free). */
  async enqueue(opts: { priority?: number } = {}): Promise<GateWaiter> {
    const reply = await this.channel.request(GateFrame.ACQUIRE, this.resource, encodeAcquire(opts.priority ?? 0, randomBytes(12).toString('base64url')));
    return this.track(new GateWaiter(this.channel, this.resource, decodeTicketReply(reply.payload), (x) => this.waiters.delete(x.seq)));
  }

  /**
   * Takes over the place of a ticket issued to any client (a visitor whose
   * web server changed or restarted): its position, or its slot if admitted.
   */
  async resume(ticket: string): Promise<GateWaiter> {
    const reply = await this.channel.request(GateFrame.WAIT, this.resource, encodeTicketRequest(ticket));
    const t = decodeTicketReply(reply.payload);
    const existing = this.waiters.get(parseTicket(t.ticket).seq);
    if (existing) {
      existing.apply(t);
      return existing;
    }
    return this.track(new GateWaiter(this.channel, this.resource, t, (x) => this.waiters.delete(x.seq)));
  }

  private track(w: GateWaiter): GateWaiter {
    if (!w.isDone) this.waiters.set(w.seq, w);
    return w;
  }

  create(config: Partial<GateConfig> & { limit: number }): Promise<GateStatus> {
    return this.settings(GateFrame.CONFIGURE, encodeConfigure('create', config));
  }

  set(config: Partial<GateConfig>): Promise<GateStatus> {
    return this.settings(GateFrame.CONFIGURE, encodeConfigure('set', config));
  }

  status(): Promise<GateStatus> {
    return this.settings(GateFrame.STATUS_REQUEST, Buffer.alloc(0));
  }

  /** Every waiter loses its place (GATE_DRAINED); holders keep their slots. */
  drain(): Promise<GateStatus> {
    return this.settings(GateFrame.DRAIN, Buffer.alloc(0));
  }

  /** An operator's release of any ticket's slot. */
  async release(ticket: string): Promise<void> {
    await this.channel.request(GateFrame.RELEASE, this.resource, encodeTicketRequest(ticket));
  }

  private async settings(type: number, payload: Buffer): Promise<GateStatus> {
    return decodeStatus((await this.channel.request(type, this.resource, payload)).payload);
  }

  /** Stops listening; waiters stop being heard from (their places lapse after the grace period). */
  close(): void {
    this.channel.off('push', this.onPush);
    this.client.off('reconnect', this.onReconnect);
    for (const w of [...this.waiters.values()]) w.expel(new CorralError('CLIENT_CLOSED', 'the gate was closed'));
  }

  private pushed(m: ServiceMessage): void {
    if (m.resource !== this.resource) return;
    switch (m.type) {
      case GateFrame.POSITIONS: {
        const p = decodePositions(m.payload);
        for (const { seq, position } of p.positions) this.waiters.get(seq)?.moved(position, p.waiting);
        return;
      }
      case GateFrame.ADMITTED: {
        const a = decodeAdmitted(m.payload);
        this.waiters.get(a.seq)?.admit(a.admission, a.leaseMs);
        return;
      }
      case GateFrame.EXPELLED: {
        const e = decodeExpelled(m.payload);
        const code = errorCodeFromWire(e.code);
        this.waiters.get(e.seq)?.expel(new CorralError(code, `lost the place in ${this.resource} (${code})`));
      }
    }
  }
}
