import { randomInt } from 'node:crypto';
import type { GateConfig } from './gate-frames.js';

/**
 * A visitor in the queue; `conn` is where its positions and admission are
 * pushed. Kept lean (no strings but the request id, times as small integers
 * relative to the book's `base`): a sale may queue 100,000 of them.
 */
export interface Waiter<C> {
  readonly seq: number;
  readonly cls: number;
  /** The acquirer's request id: a resent ACQUIRE finds its place instead of taking a second. */
  readonly nonce: string;
  /** When the waiter was last heard from (its grace runs from here), ms after the book's base. */
  seenAt: number;
  /** When it joined the queue, ms after the book's base; -1 when it came with a takeover (not known). */
  readonly arrived: number;
  conn: C | undefined;
  /** The position last pushed (0 = none yet). */
  pushed: number;
}

export interface Holder<C> {
  readonly seq: number;
  readonly cls: number;
  readonly nonce: string;
  /** The admission's number in the gate's order. */
  readonly admission: number;
  expiresAt: number;
  /** ms it waited in the queue before this admission; -1 when not known (it came with a takeover). */
  readonly waited: number;
  conn: C | undefined;
}

/**
 * One holder's or waiter's stored entry: [kind, class, n, request id] where
 * kind is 'h' (holder; n = its admission number), 'w' (queued; n = its place
 * in its class's order, ascending) or 'p' (arrived before the opening; n = 0).
 */
export type StoredSeat = ['h' | 'w' | 'p', number, number, string];

/** The counters and settings of a gate, stored apart from its seats. */
export interface GateCounters {
  salt: string;
  config: GateConfig;
  /** The next ticket's seq: tickets are numbered in arrival order. */
  next: number;
  /** The next place in a class's order (a queued seat's n). */
  order: number;
  admissions: number;
  /** Admission times in the last minute, when the gate has a per-minute limit. */
  recent: number[];
}

/** Everything a book is built from: its counters and its seats by seq. */
export interface GateSnapshot extends GateCounters {
  seats: Array<[number, StoredSeat]>;
}

const MINUTE = 60_000;

/**
 * One gate's holders and queue, without I/O: the seed's procedure (003 #1)
 * — a request is admitted while the access level is below its maximum, else
 * enqueued, and the head of the queue is admitted when the level drops —
 * with leases, graces, priority classes, a per-minute limit and a pre-queue.
 *
 * Every change of a seat is noted in `changes` (seq → its new entry, or null
 * once gone) and `dirty` is set, so that the owner stores only what changed.
 */
export class GateBook<C> {
  readonly holders = new Map<number, Holder<C>>();
  readonly waiters = new Map<number, Waiter<C>>();
  readonly queues: number[][];
  readonly pre: number[] = [];
  /** Request id → seq, for every holder and waiter. */
  readonly byNonce = new Map<string, number>();
  /** Seats changed since the last store write: seq → entry, null = deleted. */
  changes = new Map<number, StoredSeat | null>();
  /** Anything (a seat, a counter, the settings) changed since the last store write. */
  dirty = false;
  recent: number[];
  next: number;
  order: number;
  admissions: number;
  readonly salt: string;
  private settings: GateConfig;

  /** Waiters' times are kept relative to `base` (small integers, not boxed numbers). */
  private constructor(s: GateSnapshot, private readonly base: number) {
    const config = s.config;
    this.salt = s.salt;
    this.settings = config;
    this.next = s.next;
    this.order = s.order;
    this.admissions = s.admissions;
    this.recent = s.recent;
    this.queues = Array.from({ length: 8 }, () => []);
    const queued: Array<[number, number, number]> = [];
    for (const [seq, [kind, cls, n, nonce]] of s.seats) {
      this.byNonce.set(nonce, seq);
      if (kind === 'h') {
        this.holders.set(seq, { seq, cls, nonce, admission: n, expiresAt: base + config.leaseMs, waited: -1, conn: undefined });
        continue;
      }
      this.waiters.set(seq, { seq, cls, nonce, seenAt: 0, arrived: -1, conn: undefined, pushed: 0 });
      if (kind === 'p') this.pre.push(seq);
      else queued.push([cls, n, seq]);
    }
    queued.sort((a, b) => a[1] - b[1]);
    for (const [cls, , seq] of queued) this.queues[cls]!.push(seq);
  }

  static create<C>(salt: string, config: GateConfig, now: number): GateBook<C> {
    const book = new GateBook<C>({ salt, config, next: 1, order: 1, admissions: 0, recent: [], seats: [] }, now);
    book.dirty = true;
    return book;
  }

  /** A stored gate taken over at `now`: every holder's lease and every waiter's grace start afresh. */
  static load<C>(s: GateSnapshot, now: number): GateBook<C> {
    return new GateBook<C>(s, now);
  }

  get config(): GateConfig {
    return this.settings;
  }

  set config(config: GateConfig) {
    this.settings = config;
    this.dirty = true;
  }

  counters(): GateCounters {
    return { salt: this.salt, config: this.settings, next: this.next, order: this.order, admissions: this.admissions, recent: this.recent };
  }

  /** Takes the changes noted so far (for a store write); `restore` gives them back if the write failed. */
  takeChanges(): Map<number, StoredSeat | null> {
    const taken = this.changes;
    this.changes = new Map();
    this.dirty = false;
    return taken;
  }

  /** A failed write's changes, noted again under any made since (those are newer). */
  restore(taken: Map<number, StoredSeat | null>): void {
    for (const [seq, seat] of taken) if (!this.changes.has(seq)) this.changes.set(seq, seat);
    this.dirty = true;
  }

  /** Notes every seat as changed, queued ones numbered in queue order: the whole gate is written (a migration). */
  rewriteAll(): void {
    for (const h of this.holders.values()) this.note(h.seq, ['h', h.cls, h.admission, h.nonce]);
    for (const q of this.queues) for (const seq of q) this.noteQueued(this.waiters.get(seq)!);
    for (const seq of this.pre) {
      const w = this.waiters.get(seq)!;
      this.note(seq, ['p', w.cls, 0, w.nonce]);
    }
  }

  private note(seq: number, seat: StoredSeat | null): void {
    this.changes.set(seq, seat);
    this.dirty = true;
  }

  private noteQueued(w: Waiter<C>): void {
    this.note(w.seq, ['w', w.cls, this.order++, w.nonce]);
  }

  get waiting(): number {
    let n = 0;
    for (const q of this.queues) n += q.length;
    return n;
  }

  isOpen(now: number): boolean {
    return this.config.opensAt <= now;
  }

  /** The waiter was heard from at `now`. */
  touch(w: Waiter<C>, now: number): void {
    w.seenAt = now - this.base;
  }

  /** A new arrival at the back of its class (or into the pre-queue before the opening instant). */
  enqueue(cls: number, nonce: string, now: number, conn: C | undefined): Waiter<C> {
    const at = now - this.base;
    const w: Waiter<C> = { seq: this.next++, cls, nonce, seenAt: at, arrived: at, conn, pushed: 0 };
    this.waiters.set(w.seq, w);
    this.byNonce.set(nonce, w.seq);
    if (this.isOpen(now)) {
      this.queues[cls]!.push(w.seq);
      this.noteQueued(w);
    } else {
      this.pre.push(w.seq);
      this.note(w.seq, ['p', cls, 0, nonce]);
    }
    return w;
  }

  /** 1 = next to be admitted; 0 while prequeued or gone. */
  position(w: Waiter<C>): number {
    let ahead = 0;
    for (let c = 0; c < w.cls; c++) ahead += this.queues[c]!.length;
    const i = this.queues[w.cls]!.indexOf(w.seq);
    return i < 0 ? 0 : ahead + i + 1;
  }

  /** Every queued waiter with its position, in queue order. */
  *positions(): Generator<[Waiter<C>, number]> {
    let p = 0;
    for (const q of this.queues) for (const seq of q) yield [this.waiters.get(seq)!, ++p];
  }

  /** Could a slot go to the head now? Below the limit, and below the per-minute limit if any. */
  private canAdmit(now: number): boolean {
    if (this.holders.size >= this.config.limit) return false;
    if (this.config.perMinute === 0) return true;
    this.trimRecent(now);
    return this.recent.length < this.config.perMinute;
  }

  private trimRecent(now: number): void {
    let i = 0;
    while (i < this.recent.length && this.recent[i]! <= now - MINUTE) i++;
    if (i > 0) this.recent.splice(0, i);
  }

  /** When the per-minute window next frees a slot (undefined when not blocked by it). */
  rateFreesAt(now: number): number | undefined {
    if (this.config.perMinute === 0 || this.holders.size >= this.config.limit || this.waiting === 0) return undefined;
    this.trimRecent(now);
    return this.recent.length >= this.config.perMinute ? this.recent[0]! + MINUTE : undefined;
  }

  /** Seed 003 #1: while the level is below the maximum, the head of the queue (highest class first) is admitted. */
  admit(now: number): Array<Holder<C>> {
    const admitted: Array<Holder<C>> = [];
    while (this.canAdmit(now)) {
      const q = this.queues.find((x) => x.length > 0);
      if (!q) break;
      const w = this.waiters.get(q.shift()!)!;
      this.waiters.delete(w.seq);
      const waited = w.arrived < 0 ? -1 : now - this.base - w.arrived;
      const h: Holder<C> = { seq: w.seq, cls: w.cls, nonce: w.nonce, admission: ++this.admissions, expiresAt: now + this.config.leaseMs, waited, conn: w.conn };
      this.holders.set(h.seq, h);
      this.note(h.seq, ['h', h.cls, h.admission, h.nonce]);
      if (this.config.perMinute > 0) this.recent.push(now);
      admitted.push(h);
    }
    return admitted;
  }

  release(seq: number): boolean {
    const h = this.holders.get(seq);
    if (!h) return false;
    this.byNonce.delete(h.nonce);
    this.holders.delete(seq);
    this.note(seq, null);
    return true;
  }

  /** Takes a waiter out of the queue (or the pre-queue). */
  remove(w: Waiter<C>): void {
    this.waiters.delete(w.seq);
    this.byNonce.delete(w.nonce);
    this.note(w.seq, null);
    const q = this.queues[w.cls]!;
    const i = q.indexOf(w.seq);
    if (i >= 0) q.splice(i, 1);
    else {
      const j = this.pre.indexOf(w.seq);
      if (j >= 0) this.pre.splice(j, 1);
    }
  }

  /** Holders whose lease lapsed and waiters whose grace ran out, removed. */
  expire(now: number): { lapsed: Array<Holder<C>>; departed: Array<Waiter<C>> } {
    const lapsed = [...this.holders.values()].filter((h) => h.expiresAt <= now);
    for (const h of lapsed) this.release(h.seq);
    const before = now - this.base - this.config.graceMs;
    const departed = [...this.waiters.values()].filter((w) => w.seenAt <= before);
    for (const w of departed) this.remove(w);
    return { lapsed, departed };
  }

  /**
   * The opening instant: everyone who arrived before it joins the queue in
   * random order (a uniform shuffle), so arriving early buys nothing over
   * arriving just in time, and each class keeps its priority.
   */
  open(random: (n: number) => number = randomInt): number {
    const moved = this.pre.splice(0);
    for (let i = moved.length - 1; i > 0; i--) {
      const j = random(i + 1);
      [moved[i], moved[j]] = [moved[j]!, moved[i]!];
    }
    for (const seq of moved) {
      const w = this.waiters.get(seq)!;
      this.queues[w.cls]!.push(seq);
      this.noteQueued(w);
    }
    return moved.length;
  }

  /** Every waiter leaves; holders keep their slots. */
  drain(): Array<Waiter<C>> {
    const gone = [...this.waiters.values()];
    for (const w of gone) {
      this.byNonce.delete(w.nonce);
      this.note(w.seq, null);
    }
    this.waiters.clear();
    for (const q of this.queues) q.length = 0;
    this.pre.length = 0;
    return gone;
  }

  lastMinute(now: number): number {
    this.trimRecent(now);
    return this.recent.length;
  }
}
