import { randomBytes } from 'node:crypto';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { HubContext, HubService, OwnedResource, ServiceConnection, ServiceRequest } from '../../hub/hub-service.js';
import { resourceStateKey } from '../../hub/resource-state.js';
import { CorralError, isCorralError } from '../../protocol/corral-error.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import { encodeServiceMessage } from '../../protocol/service-envelope.js';
import type { MetadataStore } from '../../store/metadata-store.js';
import { GateBook, type Holder, type Waiter } from './gate-book.js';
import { mergeGateConfig } from './gate-config.js';
import {
  decodeAcquire, decodeConfigure, decodeTicketRequest, encodeAdmitted, encodeExpelled, encodePositions, encodeStatus, encodeTicketReply,
  GATE_KIND, type GateConfig, GateFrame, type GateStatus, TicketState,
} from './gate-frames.js';
import { gateTicketKey } from './gate-key.js';
import { gateHeadKey, GateStore, MOVED_MARKER, type GateHead, type StoredGateV1 } from './gate-store.js';
import { GateTicketSigner } from './gate-ticket.js';

export interface GateServiceOptions {
  /** The ticket key (CORRAL_GATE_KEY); default: one kept in the metadata store. */
  key?: string;
  /** Position pushes to one gate's waiters at most this often (default 100 ms) [P-15.5]. */
  positionEveryMs?: number;
}

type Conn = ServiceConnection;

interface OpenGate {
  readonly owned: OwnedResource;
  readonly store: GateStore;
  book: GateBook<Conn> | undefined;
  open: boolean;
  pending: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
  writing: boolean;
  lastPushAt: number;
  /** Admission times in the last minute (for the status; not stored). */
  admittedAt: number[];
  sweep?: NodeJS.Timeout;
  wake?: NodeJS.Timeout;
  push?: NodeJS.Timeout;
}

const PUSH_CHUNK = 4096;

/** One gate as the admin route `stored` lists it. */
interface StoredGateSummary {
  epoch: number;
  config: GateConfig;
  holders: number;
  waiting: number;
  prequeued: number;
  admissions: number;
}

/**
 * Gates [P-15], after seed 003 #1 ("regulating access to a scarce
 * resource"): at most `limit` holders of a `gate|<name>`; every other
 * acquirer waits in one FIFO queue (per priority class) with its exact
 * position pushed as it changes, and is admitted — pushed ADMITTED — the
 * moment a slot frees. Holders keep their slot by renewing a lease, waiters
 * their place by being heard from within a grace period. Every change is
 * stored (fenced by the gate's epoch) before anyone is told of it, so a new
 * owner after a crash grants no slot twice and loses no place.
 */
export class GateService implements HubService {
  readonly name = 'gates';
  readonly kinds = [GATE_KIND];
  private readonly gates = new Map<string, OpenGate>();
  private signer: GateTicketSigner | undefined;
  private hubId = '';
  private metadata: MetadataStore | undefined;
  private now: () => number = Date.now;
  private admissions: Counter<'gate'> | undefined;
  private lapsed: Counter<'gate' | 'reason'> | undefined;
  private waits: Histogram<'gate'> | undefined;
  private readonly positionEveryMs: number;

  constructor(private readonly opts: GateServiceOptions = {}) {
    this.positionEveryMs = opts.positionEveryMs ?? 100;
  }

  readonly queries = { gates: (): Promise<unknown> => this.statusAll() };
  readonly routes = {
    status: (): Promise<unknown> => this.statusAll(),
    stored: (): Promise<unknown> => this.storedAll(),
  };

  async start(ctx: HubContext): Promise<void> {
    this.hubId = ctx.hubId;
    this.metadata = ctx.stores.metadata;
    this.now = () => ctx.clock.now();
    this.signer = new GateTicketSigner(await gateTicketKey(ctx.stores.metadata, this.opts.key));
    const registers = [ctx.metrics];
    this.admissions = new Counter({ name: 'corral_gate_admissions_total', help: 'Slots granted, by gate', labelNames: ['gate'], registers });
    this.lapsed = new Counter({ name: 'corral_gate_lapsed_total', help: 'Holders whose lease lapsed (reason=lease) and waiters whose grace ran out (reason=grace)', labelNames: ['gate', 'reason'], registers });
    this.waits = new Histogram({ name: 'corral_gate_wait_seconds', help: 'Time from joining a gate\'s queue to admission', labelNames: ['gate'], registers, buckets: [0.01, 0.1, 1, 5, 15, 60, 300, 900, 3600] });
    const gates = this.gates;
    new Gauge({
      name: 'corral_gate_holders', help: 'Slots held, by gate owned by this hub', labelNames: ['gate'], registers,
      collect() { this.reset(); for (const g of gates.values()) if (g.book) this.set({ gate: g.owned.resource }, g.book.holders.size); },
    });
    new Gauge({
      name: 'corral_gate_waiting', help: 'Waiters in the queue, by gate owned by this hub', labelNames: ['gate'], registers,
      collect() { this.reset(); for (const g of gates.values()) if (g.book) this.set({ gate: g.owned.resource }, g.book.waiters.size); },
    });
  }

  /**
   * Raises the gate's fence and loads it. A gate the first layout stored
   * whole in the resource state is rewritten seat by seat (one fenced batch),
   * then the resource state keeps only a marker.
   */
  async gained(owned: OwnedResource): Promise<void> {
    const store = new GateStore(this.metadata!, owned.resource, owned.epoch);
    const loaded = await store.gain(owned.state.value);
    const book = loaded && GateBook.load<Conn>(loaded.snapshot, this.now());
    if (loaded?.legacy && book) {
      book.rewriteAll();
      await store.write(book);
      await owned.state.write(MOVED_MARKER);
    }
    const g: OpenGate = { owned, store, book, open: true, pending: [], writing: false, lastPushAt: 0, admittedAt: [] };
    this.gates.set(owned.resource, g);
    this.arm(g);
  }

  async handingOff(owned: OwnedResource): Promise<void> {
    const g = this.gates.get(owned.resource);
    if (g?.book) await this.commit(g);
  }

  lost(owned: OwnedResource): void {
    const g = this.gates.get(owned.resource);
    if (g?.owned !== owned) return;
    this.close(g);
    this.gates.delete(owned.resource);
  }

  load(owned: OwnedResource): number {
    const g = this.gates.get(owned.resource);
    return 1 + Math.floor((g?.book?.waiters.size ?? 0) / 1000);
  }

  async stop(): Promise<void> {
    for (const g of this.gates.values()) this.close(g);
    await Promise.resolve();
  }

  async handle(req: ServiceRequest): Promise<void> {
    const { message, owned, from } = req;
    const g = this.gates.get(owned.resource);
    if (g?.owned !== owned || !g.open) throw new CorralError('NOT_OWNER', `gate ${owned.resource} left this hub; retry`);
    const now = this.now();
    switch (message.type) {
      case GateFrame.CONFIGURE: return this.configure(g, req, now);
      case GateFrame.STATUS_REQUEST:
        // Only what is stored is reported: a write under way finishes first, so a count read here survives the owner.
        if (g.writing) await this.commit(g);
        return req.reply(GateFrame.STATUS, encodeStatus(this.status(g, this.book(g), this.now())));
      case GateFrame.DRAIN: return this.drain(g, req, now);
      case GateFrame.ACQUIRE: return this.acquire(g, req, decodeAcquire(message.payload), now);
    }
    const book = this.book(g);
    const ticket = (): { seq: number; w: Waiter<Conn> | undefined; h: Holder<Conn> | undefined } => {
      const { seq } = this.signer!.verify(owned.resource, book.salt, decodeTicketRequest(message.payload));
      return { seq, w: book.waiters.get(seq), h: book.holders.get(seq) };
    };
    switch (message.type) {
      case GateFrame.WAIT: {
        const { seq, w, h } = ticket();
        if (h) {
          h.conn = from;
          return this.replyTicket(g, req, book, seq, h);
        }
        if (!w) throw new CorralError('TICKET_EXPIRED', `ticket ${seq} of ${owned.resource} has no place any more (grace period over, or its slot ended)`);
        book.touch(w, now);
        w.conn = from;
        return this.replyTicket(g, req, book, seq, undefined, w);
      }
      case GateFrame.RENEW: {
        const { seq, h } = ticket();
        if (!h) throw new CorralError('SLOT_NOT_HELD', `ticket ${seq} holds no slot of ${owned.resource}`);
        h.expiresAt = now + book.config.leaseMs;
        h.conn = from;
        return this.replyTicket(g, req, book, seq, h);
      }
      case GateFrame.RELEASE: {
        const { seq, h } = ticket();
        if (!h) throw new CorralError('SLOT_NOT_HELD', `ticket ${seq} holds no slot of ${owned.resource}`);
        book.release(seq);
        await this.settle(g, book, now);
        return req.reply(GateFrame.DONE, Buffer.alloc(0));
      }
      case GateFrame.CANCEL: {
        const { seq, w, h } = ticket();
        if (w) book.remove(w);
        if (h) book.release(seq);
        if (w || h) await this.settle(g, book, now);
        return req.reply(GateFrame.DONE, Buffer.alloc(0));
      }
      default:
        throw new CorralError('UNKNOWN_FRAME_TYPE', `the gates service has no request frame 0x${message.type.toString(16)}`);
    }
  }

  private book(g: OpenGate): GateBook<Conn> {
    if (!g.book) throw new CorralError('UNKNOWN_GATE', `no gate ${g.owned.resource}; create it first`);
    return g.book;
  }

  private async acquire(g: OpenGate, req: ServiceRequest, { cls, request }: { cls: number; request: string }, now: number): Promise<void> {
    const book = this.book(g);
    const known = book.byNonce.get(request);
    if (known !== undefined) {
      // A resent ACQUIRE (its reply was lost with a connection or an owner): the same place, not a second one.
      const w = book.waiters.get(known);
      if (w) {
        book.touch(w, now);
        w.conn = req.from;
      }
      await this.commit(g);
      return this.replyTicket(g, req, book, known, book.holders.get(known), w);
    }
    if (cls >= book.config.classes) throw new CorralError('INVALID_ARGUMENT', `class ${cls} out of range: ${g.owned.resource} has ${book.config.classes} class(es), 0–${book.config.classes - 1}`);
    const w = book.enqueue(cls, request, now, req.from);
    const mine = await this.settle(g, book, now, w.seq);
    this.replyTicket(g, req, book, w.seq, mine, book.waiters.get(w.seq));
  }

  private replyTicket(g: OpenGate, req: ServiceRequest, book: GateBook<Conn>, seq: number, h?: Holder<Conn>, w?: Waiter<Conn>): void {
    const ticket = this.signer!.sign(g.owned.resource, book.salt, seq, h?.cls ?? w?.cls ?? 0);
    const position = w ? book.position(w) : 0;
    if (w) w.pushed = position;
    const state = h ? TicketState.ADMITTED : position === 0 ? TicketState.PREQUEUED : TicketState.WAITING;
    req.reply(GateFrame.TICKET, encodeTicketReply({
      state, ticket, position, waiting: book.waiting, leaseMs: book.config.leaseMs, graceMs: book.config.graceMs, admission: h?.admission ?? 0,
    }));
  }

  /**
   * After a change: admits while slots are free, stores the gate, then tells
   * the admitted (ADMITTED pushes) and lets positions go out. Returns the
   * holder made of `own` if it was admitted here (its reply tells it).
   */
  private async settle(g: OpenGate, book: GateBook<Conn>, now: number, own?: number): Promise<Holder<Conn> | undefined> {
    const admitted = book.admit(now);
    await this.commit(g);
    let mine: Holder<Conn> | undefined;
    for (const h of admitted) {
      this.admissions?.inc({ gate: g.owned.resource });
      g.admittedAt.push(now);
      if (h.waited >= 0) this.waits?.observe({ gate: g.owned.resource }, h.waited / 1000);
      if (h.seq === own) mine = h;
      else h.conn?.send(this.push(g, GateFrame.ADMITTED, encodeAdmitted(h.seq, h.admission, book.config.leaseMs)));
    }
    this.wakeForRate(g, book, now);
    return mine;
  }

  private push(g: OpenGate, type: number, payload: Buffer): Buffer {
    return encodeServiceMessage({ type, corr: 0, resource: g.owned.resource, payload });
  }

  /** Stores what changed; changes made meanwhile ride on one write (a group commit). FENCED when a newer owner took it. */
  private commit(g: OpenGate): Promise<void> {
    return new Promise((resolve, reject) => {
      g.pending.push({ resolve, reject });
      if (!g.writing) void this.flush(g);
    });
  }

  private async flush(g: OpenGate): Promise<void> {
    g.writing = true;
    while (g.pending.length > 0) {
      const batch = g.pending.splice(0);
      try {
        if (!g.open || !g.book) throw new CorralError('NOT_OWNER', `gate ${g.owned.resource} left this hub; retry`);
        await g.store.write(g.book);
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
        if (isCorralError(err, 'FENCED') && g.open) this.fenced(g);
      }
    }
    g.writing = false;
    this.schedulePositions(g);
  }

  /**
   * A newer owner raised the gate's fence. Writing the resource state is
   * refused as well (the newer owner claimed it), and that refusal makes the
   * host give the gate up, so its clients are sent on to the new owner.
   */
  private fenced(g: OpenGate): void {
    this.close(g);
    g.owned.state.write(MOVED_MARKER).catch(() => undefined);
  }

  /** [P-15.5] Positions go out at most every positionEveryMs, each waiter's only when it changed, one frame per connection. */
  private schedulePositions(g: OpenGate): void {
    if (g.push || !g.open) return;
    const delay = Math.max(0, g.lastPushAt + this.positionEveryMs - this.now());
    g.push = setTimeout(() => {
      g.push = undefined;
      g.lastPushAt = this.now();
      this.pushPositions(g);
    }, delay);
  }

  private pushPositions(g: OpenGate): void {
    const book = g.book;
    if (!book || !g.open) return;
    const byConn = new Map<Conn, Array<[number, number]>>();
    for (const [w, p] of book.positions()) {
      if (w.pushed === p || !w.conn) continue;
      w.pushed = p;
      let list = byConn.get(w.conn);
      if (!list) byConn.set(w.conn, list = []);
      list.push([w.seq, p]);
    }
    const waiting = book.waiting;
    for (const [conn, list] of byConn) {
      for (let i = 0; i < list.length; i += PUSH_CHUNK) conn.send(this.push(g, GateFrame.POSITIONS, encodePositions(waiting, list.slice(i, i + PUSH_CHUNK))));
    }
  }

  private async configure(g: OpenGate, req: ServiceRequest, now: number): Promise<void> {
    const { mode, config } = decodeConfigure(req.message.payload);
    if (mode === 'create' && g.book) throw new CorralError('GATE_EXISTS', `gate ${g.owned.resource} exists; change it with set`);
    if (mode === 'set' && !g.book) throw new CorralError('UNKNOWN_GATE', `no gate ${g.owned.resource}; create it first`);
    const merged = mergeGateConfig(g.book?.config, config);
    if (g.book) g.book.config = merged;
    else g.book = GateBook.create(randomBytes(9).toString('base64url'), merged, now);
    const book = g.book;
    if (book.pre.length > 0 && book.isOpen(now)) book.open();
    await this.settle(g, book, now);
    this.arm(g);
    req.reply(GateFrame.STATUS, encodeStatus(this.status(g, book, now)));
  }

  private async drain(g: OpenGate, req: ServiceRequest, now: number): Promise<void> {
    const book = this.book(g);
    const gone = book.drain();
    await this.commit(g);
    const code = ERROR_CODES.GATE_DRAINED.wire;
    for (const w of gone) w.conn?.send(this.push(g, GateFrame.EXPELLED, encodeExpelled(w.seq, code)));
    req.reply(GateFrame.STATUS, encodeStatus(this.status(g, book, now)));
  }

  /** Timers of a gate: the sweep for lapsed leases and graces, and the opening instant. */
  private arm(g: OpenGate): void {
    clearInterval(g.sweep);
    clearTimeout(g.wake);
    const book = g.book;
    if (!book || !g.open) return;
    const every = Math.min(1000, Math.max(20, Math.floor(Math.min(book.config.leaseMs, book.config.graceMs) / 4)));
    g.sweep = setInterval(() => this.sweep(g), every);
    g.sweep.unref();
    const now = this.now();
    if (!book.isOpen(now)) this.wakeAt(g, book.config.opensAt, now);
  }

  private wakeAt(g: OpenGate, at: number, now: number): void {
    clearTimeout(g.wake);
    g.wake = setTimeout(() => {
      g.wake = undefined;
      this.sweep(g);
    }, Math.max(0, at - now));
    g.wake.unref();
  }

  private wakeForRate(g: OpenGate, book: GateBook<Conn>, now: number): void {
    const at = book.rateFreesAt(now);
    if (at !== undefined && g.wake === undefined) this.wakeAt(g, at, now);
  }

  private sweep(g: OpenGate): void {
    const book = g.book;
    if (!book || !g.open) return;
    const now = this.now();
    const { lapsed, departed } = book.expire(now);
    if (lapsed.length > 0) this.lapsed?.inc({ gate: g.owned.resource, reason: 'lease' }, lapsed.length);
    if (departed.length > 0) this.lapsed?.inc({ gate: g.owned.resource, reason: 'grace' }, departed.length);
    const opened = book.pre.length > 0 && book.isOpen(now) ? book.open() : 0;
    const freed = book.holders.size < book.config.limit && book.waiting > 0 && book.rateFreesAt(now) === undefined;
    if (lapsed.length + departed.length + opened === 0 && !(freed && g.wake === undefined)) return;
    this.settle(g, book, now).catch(() => undefined);
  }

  private close(g: OpenGate): void {
    g.open = false;
    clearInterval(g.sweep);
    clearTimeout(g.wake);
    clearTimeout(g.push);
  }

  private status(g: OpenGate, book: GateBook<Conn>, now: number): GateStatus {
    while (g.admittedAt.length > 0 && g.admittedAt[0]! <= now - 60_000) g.admittedAt.shift();
    return {
      gate: g.owned.resource, config: book.config, holders: book.holders.size, waiting: book.waiting,
      waitingByClass: book.queues.slice(0, book.config.classes).map((q) => q.length), prequeued: book.pre.length,
      admissions: book.admissions, lastMinute: g.admittedAt.length, hubId: this.hubId, epoch: g.owned.epoch,
    };
  }

  private statusAll(): Promise<unknown> {
    const now = this.now();
    const gates = [...this.gates.values()].filter((g) => g.book && g.open).map((g) => this.status(g, g.book!, now));
    return Promise.resolve({ hubId: this.hubId, gates });
  }

  /** Every gate of the farm as last stored (whichever hub owns it): the heads, and gates still in the first layout. */
  private async storedAll(): Promise<unknown> {
    const headPrefix = gateHeadKey(`${GATE_KIND}|`);
    const statePrefix = resourceStateKey(`${GATE_KIND}|`);
    const [heads, states] = await Promise.all([this.metadata!.list(headPrefix), this.metadata!.list(statePrefix)]);
    const gates = new Map<string, StoredGateSummary>();
    for (const e of heads) {
      const h = JSON.parse(e.value) as GateHead;
      gates.set(e.key.slice(gateHeadKey('').length), {
        epoch: h.epoch, config: h.config, holders: h.holders, waiting: h.waiting, prequeued: h.prequeued, admissions: h.admissions,
      });
    }
    for (const e of states) {
      const gate = e.key.slice(resourceStateKey('').length);
      const st = JSON.parse(e.value) as { epoch: number; data: string | null };
      const s = st.data === null ? undefined : (JSON.parse(st.data) as Partial<StoredGateV1>);
      if (gates.has(gate) || s?.v !== 1) continue;
      const v1 = s as StoredGateV1;
      gates.set(gate, {
        epoch: st.epoch, config: v1.config, holders: v1.holders.length,
        waiting: v1.queues.reduce((n, q) => n + q.length, 0), prequeued: v1.pre.length, admissions: v1.admissions,
      });
    }
    return { gates: [...gates].sort(([a], [b]) => (a < b ? -1 : 1)).map(([gate, summary]) => ({ gate, ...summary })) };
  }
}
