import { wrapU64 } from './counters-frames.js';

/**
 * One member's record of one variable (seed 000, claims 32–35): its own
 * contribution (`local`), what its parent sent (`parent`: everyone outside
 * this member's subtree), one total per child (that child's subtree), all
 * unsigned 64-bit and starting at zero. Sums wrap modulo 2^64 [P-14.1].
 */
export class CounterRecord {
  local = 0n;
  parent = 0n;
  readonly children = new Map<string, bigint>();

  /** What goes up: this member's and its subtree's contributions (claim 1, "first data value"). */
  subtree(): bigint {
    let s = this.local;
    for (const v of this.children.values()) s += v;
    return wrapU64(s);
  }

  /** The calculated value: parent + own + children (claims 3–4). */
  global(): bigint {
    return wrapU64(this.parent + this.subtree());
  }

  /** What goes down to `child`: everything but its subtree (claim 1, "third data value"). */
  forChild(child: string): bigint {
    return wrapU64(this.global() - (this.children.get(child) ?? 0n));
  }
}

/** (variable name, value) pairs of one exchange on one link. */
export type NamedEntry = [name: string, value: bigint];

/**
 * The exchange of one member of a counter tree with its parent and its
 * children [P-14.4], independent of any network: totals go up, "everything
 * but your subtree" goes down, and only variables changed since the last
 * exchange on a link cross it — upward from a dirty set, downward from one
 * dirty set per child (claim 6). Totals, not deltas, so an exchange that is
 * resent, or repeated after a failure, changes nothing.
 */
export class CounterNode {
  readonly records = new Map<string, CounterRecord>();
  private dirtyUp = new Set<string>();
  /** Per child, the variables updated independently of it since its last exchange (claim 6). */
  private readonly dirtyDown = new Map<string, Set<string>>();
  private readonly subscribers = new Map<string, Set<string>>();

  record(name: string): CounterRecord {
    let r = this.records.get(name);
    if (!r) {
      r = new CounterRecord();
      this.records.set(name, r);
    }
    return r;
  }

  global(name: string): bigint {
    return this.records.get(name)?.global() ?? 0n;
  }

  /** Adds to this member's own contribution (claim 2). */
  addLocal(name: string, n: bigint): void {
    const r = this.record(name);
    r.local = wrapU64(r.local + n);
    this.changed(name);
  }

  /** Initialises this member's own contribution (claims 11, 29, 38). */
  setLocal(name: string, value: bigint): void {
    const r = this.record(name);
    const v = wrapU64(value);
    if (r.local === v) return;
    r.local = v;
    this.changed(name);
  }

  /** The parent's value arrived (claim 1, "fourth data value"). */
  applyParent(name: string, value: bigint): void {
    const r = this.record(name);
    if (r.parent === value) return;
    r.parent = value;
    this.markChildren(name, undefined);
  }

  /** A child's subtree total arrived (claim 1, "second data value"). */
  applyChild(child: string, name: string, total: bigint): void {
    const r = this.record(name);
    if (r.children.get(child) === total) return;
    r.children.set(child, total);
    this.dirtyUp.add(name);
    this.markChildren(name, child);
  }

  /** `child` reads `name` from now on: it is dirty for it until the next exchange. */
  subscribe(child: string, name: string): void {
    this.record(name);
    let s = this.subscribers.get(name);
    if (!s) {
      s = new Set();
      this.subscribers.set(name, s);
    }
    s.add(child);
    this.dirtyFor(child).add(name);
  }

  /** Every variable `child` reads is dirty for it (a new connection, a lost reply). */
  resendAll(child: string): void {
    const d = this.dirtyFor(child);
    for (const [name, s] of this.subscribers) if (s.has(child)) d.add(name);
  }

  /**
   * The child leaves the tree, or a newer incarnation replaced it: this member
   * adopts what the child delivered as its own contribution, so nothing
   * delivered is lost and nothing is counted twice (no global value changes).
   */
  adoptChild(child: string): void {
    for (const r of this.records.values()) {
      const t = r.children.get(child);
      if (t === undefined) continue;
      r.children.delete(child);
      r.local = wrapU64(r.local + t);
    }
    for (const s of this.subscribers.values()) s.delete(child);
    this.dirtyDown.delete(child);
  }

  /** Takes the variables whose subtree total changed since the last exchange upward; hand them back with `upFailed` if it fails. */
  takeUp(): NamedEntry[] {
    const names = this.dirtyUp;
    this.dirtyUp = new Set();
    return [...names].map((n) => [n, this.records.get(n)!.subtree()]);
  }

  upFailed(entries: readonly NamedEntry[]): void {
    for (const [n] of entries) this.dirtyUp.add(n);
  }

  /** Takes the parent values that changed for `child` since its last exchange. */
  takeDown(child: string): NamedEntry[] {
    const d = this.dirtyDown.get(child);
    if (!d || d.size === 0) return [];
    this.dirtyDown.set(child, new Set());
    return [...d].map((n) => [n, this.records.get(n)!.forChild(child)]);
  }

  downFailed(child: string, entries: readonly NamedEntry[]): void {
    const d = this.dirtyFor(child);
    for (const [n] of entries) d.add(n);
  }

  /**
   * Forgets a variable this member no longer uses, unless it has a change
   * not yet sent up (or `undelivered` says that change is to be dropped too:
   * a window long over); true if it is gone.
   */
  drop(name: string, undelivered = false): boolean {
    if (this.dirtyUp.has(name) && !undelivered) return false;
    this.dirtyUp.delete(name);
    this.records.delete(name);
    this.subscribers.delete(name);
    for (const d of this.dirtyDown.values()) d.delete(name);
    return true;
  }

  hasDirtyUp(): boolean {
    return this.dirtyUp.size > 0;
  }

  hasDirtyDown(child: string): boolean {
    return (this.dirtyDown.get(child)?.size ?? 0) > 0;
  }

  private changed(name: string): void {
    this.dirtyUp.add(name);
    this.markChildren(name, undefined);
  }

  private markChildren(name: string, except: string | undefined): void {
    const s = this.subscribers.get(name);
    if (!s) return;
    for (const c of s) if (c !== except) this.dirtyFor(c).add(name);
  }

  private dirtyFor(child: string): Set<string> {
    let d = this.dirtyDown.get(child);
    if (!d) {
      d = new Set();
      this.dirtyDown.set(child, d);
    }
    return d;
  }
}
