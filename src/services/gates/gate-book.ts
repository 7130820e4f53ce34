import { randomInt } from 'node:crypto';
import type { GateConfig } from './gate-frames.js';

/** A visitor in the queue; `conn` is where its positions and admission are pushed. */
export interface Waiter<C> {
  readonly seq: number;
  readonly cls: number;
  /** The acquirer's request id: a resent ACQUIRE finds its place instead of taking a second. */
  readonly nonce: string;
  /** When the waiter was last heard from (its grace runs from here). */
  seenAt: number;
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
  conn: C | undefined;
}

/** What a gate stores, fenced by its epoch [P-15.6]; leases and graces restart at the new owner, so they are not stored. */
export interface StoredGate {
  v: 1;
  salt: string;
  config: GateConfig;
  /** The next ticket's seq: tickets are numbered in arrival order. */
  next: number;
  admissions: number;
  /** [seq, class, admission] of every holder. */
  holders: Array<[number, number, number]>;
  /** Per class, the waiters' seqs in queue order. */
  queues: number[][];
  /** [seq, class] of arrivals before the opening instant. */
  pre: Array<[number, number]>;
  /** Admission times in the last minute, when the gate has a per-minute limit. */
  recent: number[];
  /** [seq, request id] of every holder and waiter. */
  nonces: Array<[number, string]>;
}

const MINUTE = 60_000;

/**
 * One gate's holders and queue, without I/O: the seed's procedure (003 #1)
 * — a request is admitted while the access level is below its maximum, else
 * enqueued, and the head of the queue is admitted when the level drops —
 * with leases, graces, priority classes, a per-minute limit and a pre-queue.
 */
export class GateBook<C> {
  readonly holders = new Map<number, Holder<C>>();
  readonly waiters = new Map<number, Waiter<C>>();
  readonly queues: number[][];
  readonly pre: number[] = [];
  /** Request id → seq, for every holder and waiter. */
  readonly byNonce = new Map<string, number>();
  recent: number[];
  next: number;
  admissions: number;

  private constructor(readonly salt: string, public config: GateConfig, s: Omit<StoredGate, 'v' | 'salt' | 'config'>, now: number) {
    this.next = s.next;
    this.admissions = s.admissions;
    this.recent = s.recent;
    this.queues = Array.from({ length: 8 }, (_, c) => s.queues[c]?.slice() ?? []);
    const nonces = new Map(s.nonces);
    for (const [seq, nonce] of s.nonces) this.byNonce.set(nonce, seq);
    const nonce = (seq: number): string => nonces.get(seq) ?? '';
    for (const [seq, cls, admission] of s.holders) this.holders.set(seq, { seq, cls, nonce: nonce(seq), admission, expiresAt: now + config.leaseMs, conn: undefined });
    for (const [cls, q] of this.queues.entries()) for (const seq of q) this.waiters.set(seq, { seq, cls, nonce: nonce(seq), seenAt: now, conn: undefined, pushed: 0 });
    for (const [seq, cls] of s.pre) {
      this.pre.push(seq);
      this.waiters.set(seq, { seq, cls, nonce: nonce(seq), seenAt: now, conn: undefined, pushed: 0 });
    }
  }

  static create<C>(salt: string, config: GateConfig, now: number): GateBook<C> {
    return new GateBook<C>(salt, config, { next: 1, admissions: 0, holders: [], queues: [], pre: [], recent: [], nonces: [] }, now);
  }

  /** A stored gate taken over at `now`: every holder's lease and every waiter's grace start afresh. */
  static load<C>(s: StoredGate, now: number): GateBook<C> {
    return new GateBook<C>(s.salt, s.config, s, now);
  }

  toStored(): StoredGate {
    return {
      v: 1, salt: this.salt, config: this.config, next: this.next, admissions: this.admissions,
      holders: [...this.holders.values()].map((h) => [h.seq, h.cls, h.admission]),
      queues: this.queues.slice(0, this.lastNonEmpty() + 1),
      pre: this.pre.map((seq) => [seq, this.waiters.get(seq)!.cls]),
      recent: this.recent,
      nonces: [...this.byNonce].map(([nonce, seq]) => [seq, nonce]),
    };
  }

  private lastNonEmpty(): number {
    let last = -1;
    for (const [c, q] of this.queues.entries()) if (q.length > 0) last = c;
    return last;
  }

  get waiting(): number {
    let n = 0;
    for (const q of this.queues) n += q.length;
    return n;
  }

  isOpen(now: number): boolean {
    return this.config.opensAt <= now;
  }

  /** A new arrival at the back of its class (or into the pre-queue before the opening instant). */
  enqueue(cls: number, nonce: string, now: number, conn: C | undefined): Waiter<C> {
    const w: Waiter<C> = { seq: this.next++, cls, nonce, seenAt: now, conn, pushed: 0 };
    this.waiters.set(w.seq, w);
    this.byNonce.set(nonce, w.seq);
    if (this.isOpen(now)) this.queues[cls]!.push(w.seq);
    else this.pre.push(w.seq);
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
      const h: Holder<C> = { seq: w.seq, cls: w.cls, nonce: w.nonce, admission: ++this.admissions, expiresAt: now + this.config.leaseMs, conn: w.conn };
      this.holders.set(h.seq, h);
      if (this.config.perMinute > 0) this.recent.push(now);
      admitted.push(h);
    }
    return admitted;
  }

  release(seq: number): boolean {
    const h = this.holders.get(seq);
    if (h) this.byNonce.delete(h.nonce);
    return this.holders.delete(seq);
  }

  /** Takes a waiter out of the queue (or the pre-queue). */
  remove(w: Waiter<C>): void {
    this.waiters.delete(w.seq);
    this.byNonce.delete(w.nonce);
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
    const departed = [...this.waiters.values()].filter((w) => w.seenAt + this.config.graceMs <= now);
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
    for (const seq of moved) this.queues[this.waiters.get(seq)!.cls]!.push(seq);
    return moved.length;
  }

  /** Every waiter leaves; holders keep their slots. */
  drain(): Array<Waiter<C>> {
    const gone = [...this.waiters.values()];
    for (const w of gone) this.byNonce.delete(w.nonce);
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
