import { EventEmitter } from 'node:events';
import type { Client } from '../../client/client.js';
import { CorralError } from '../../protocol/corral-error.js';
import { CounterNode } from './counter-node.js';
import type { CounterSlots } from './counter-slots.js';
import { FarmClock } from '../clock/farm-clock.js';
import { CounterUplink, type CountersStats } from './counter-uplink.js';
import { endedWindows, parseWindow } from './ended-windows.js';
import { WindowedCounter, type WindowClock, type WindowedOptions } from './windowed-counter.js';
import {
  BRANCH_MEMBER_PREFIX, checkCounterName, counterResource, CountersFrame, decodeSetDone, encodeSet, wrapU64, type TreeView,
} from './counters-frames.js';

export type { CountersStats } from './counter-uplink.js';

export interface CountersOptions {
  /** This member's id in the partition, unique per process (a restarted process reuses it: [P-14.2]). */
  memberId: string;
  /** The partition of variables (default `default`): one root, one exchange per interval for all its variables. */
  partition?: string;
  /**
   * Join this branch of the partition (`rack-1`, or nested `eu/rack-1`): an
   * interior hub that links up to the partition's root (or its parent branch)
   * as one member. Default: the root itself.
   */
  branch?: string;
  /** Exchange with the root this often (default 100 ms); `sync()` exchanges at once. */
  syncIntervalMs?: number;
  /** Per-thread slots whose sums are this member's contribution to their variables. */
  slots?: CounterSlots;
}

export interface WatchOptions {
  /**
   * Once the global value is within this distance of the threshold, every
   * local increment of the variable syncs at once (urgent: the root pushes it
   * on to the other members) instead of waiting for the interval.
   */
  earlySyncWithin?: bigint;
}

export interface CountersEvents {
  /** A background exchange failed; a non-retryable one (LINK_REFUSED) stops the member. */
  error: [err: CorralError];
  /** Parent values arrived (a reply or a push). */
  update: [];
}

interface Watch {
  threshold: bigint;
  listener: (value: bigint) => void;
  earlySyncWithin: bigint | undefined;
  above: boolean;
}

const ONE = 1n;

/**
 * A member of a partition's counter tree [P-14], a leaf under the root hub:
 * `increment` is a local memory operation; every interval (and on demand)
 * the member sends the totals of the variables it changed and receives the
 * parent values that changed for it, so `value` is the global count within
 * about one interval plus a round trip. Totals, not deltas: a resent
 * exchange changes nothing (seed 000, claims 1–4).
 */
export class Counters extends EventEmitter<CountersEvents> {
  readonly resource: string;
  private readonly node = new CounterNode();
  private readonly uplink: CounterUplink;
  private readonly watches = new Map<string, Watch[]>();
  /** Main-thread increments of variables that also have slots. */
  private readonly slotBase = new Map<string, bigint>();
  /** Variables no longer used (ended windows): dropped from memory once delivered. */
  private readonly retiring = new Set<string>();
  private farmClock: Promise<FarmClock> | undefined;

  private constructor(private readonly client: Client, readonly memberId: string, private readonly slots: CounterSlots | undefined, readonly partition: string, branch: string | undefined) {
    super();
    this.resource = counterResource(partition, branch);
    this.uplink = new CounterUplink(client, this.resource, memberId, this.node, {
      prepare: () => {
        for (const [name, base] of this.slotBase) this.node.setLocal(name, wrapU64(base + this.slots!.sum(name)));
      },
      applied: (names) => {
        for (const name of names) if (this.watches.has(name)) this.checkWatches(name, false);
        this.emit('update');
      },
      exchanged: () => this.dropRetired(),
      failed: (err) => { if (this.listenerCount('error') > 0) this.emit('error', err); },
    });
    for (const name of slots?.variables ?? []) this.want(name);
  }

  /** Registers with the partition's root, or the branch (claims 12–14), and starts the periodic exchange. */
  static async join(client: Client, opts: CountersOptions): Promise<Counters> {
    checkCounterName(opts.memberId, 'member id');
    if (opts.memberId.startsWith(BRANCH_MEMBER_PREFIX)) {
      throw new CorralError('INVALID_COUNTER_NAME', `member ids starting with ${BRANCH_MEMBER_PREFIX} are the branches' own`);
    }
    const c = new Counters(client, opts.memberId, opts.slots, opts.partition ?? 'default', opts.branch);
    await c.uplink.open(opts.syncIntervalMs ?? 100);
    return c;
  }

  /** Adds `n` to this member's contribution: a local operation, sent at the next exchange. */
  increment(name: string, n: bigint | number = ONE): void {
    const by = typeof n === 'bigint' ? n : BigInt(n);
    if (this.slotBase.has(name)) this.slotBase.set(name, wrapU64(this.slotBase.get(name)! + by));
    else {
      this.want(name);
      this.node.addLocal(name, by);
    }
    if (this.watches.has(name)) this.checkWatches(name, true);
  }

  /** Sets this member's own contribution (claim 11); the global value moves by the difference. */
  set(name: string, value: bigint): void {
    if (this.slotBase.has(name)) throw new CorralError('INVALID_ARGUMENT', `${name} is counted in thread slots; it cannot be set`);
    this.want(name);
    this.node.setLocal(name, value);
    if (this.watches.has(name)) this.checkWatches(name, true);
  }

  /** This member's own contribution. */
  local(name: string): bigint {
    if (this.slotBase.has(name)) return wrapU64(this.slotBase.get(name)! + this.slots!.sum(name));
    return this.node.records.get(name)?.local ?? 0n;
  }

  /** The global value as this member knows it: the parent's value plus its own (claim 4). */
  value(name: string): bigint {
    this.want(name);
    const r = this.node.record(name);
    return wrapU64(r.parent + this.local(name));
  }

  /**
   * Calls `listener` each time the global value rises to `threshold` or
   * above (from below); returns the function that removes the watch.
   */
  watch(name: string, threshold: bigint, listener: (value: bigint) => void, opts: WatchOptions = {}): () => void {
    this.want(name);
    const w: Watch = { threshold, listener, earlySyncWithin: opts.earlySyncWithin, above: false };
    const list = this.watches.get(name) ?? [];
    list.push(w);
    this.watches.set(name, list);
    this.checkWatches(name, false);
    return () => {
      const l = this.watches.get(name)?.filter((x) => x !== w) ?? [];
      if (l.length === 0) this.watches.delete(name);
      else this.watches.set(name, l);
    };
  }

  /**
   * Subscribes variables and exchanges once, so `value` knows them. A
   * variable is otherwise subscribed when first named, and its global value
   * known from the exchange after that.
   */
  async subscribe(...names: string[]): Promise<void> {
    for (const n of names) this.want(n);
    await this.sync();
  }

  /** Sets the global value at the partition's root (a reset with 0n); resolves with the value before. */
  async setGlobal(name: string, value: bigint): Promise<bigint> {
    this.want(name);
    const reply = await this.client.service('counters').request(CountersFrame.SET, counterResource(this.partition), encodeSet(name, value));
    const previous = decodeSetDone(reply.payload).previous;
    await this.sync();
    return previous;
  }

  /** The partition's tree as its root sees it. */
  tree(): Promise<TreeView> {
    return Counters.readTree(this.client, this.partition);
  }

  /**
   * The whole tree from the partition's root (or a branch) down: each branch
   * member's own view under `branches`, read from the hub that owns it.
   */
  static async readWholeTree(client: Client, partition: string, branch?: string): Promise<TreeView> {
    const tree = await Counters.readTree(client, partition, branch);
    const below = tree.members.filter((m) => m.memberId.startsWith(BRANCH_MEMBER_PREFIX));
    if (below.length > 0) {
      tree.branches = await Promise.all(below.map((m) => Counters.readWholeTree(client, partition, m.memberId.slice(BRANCH_MEMBER_PREFIX.length))));
    }
    return tree;
  }

  /** A partition's tree as its root (or one branch) sees it, without joining it (`corral counters`). */
  static async readTree(client: Client, partition: string, branch?: string): Promise<TreeView> {
    const reply = await client.service('counters').request(CountersFrame.TREE, counterResource(partition, branch));
    return JSON.parse(reply.payload.toString('utf8')) as TreeView;
  }

  stats(): CountersStats {
    return this.uplink.stats();
  }

  /**
   * A counter that restarts from zero at every `windowMs` of farm time, for
   * rate limits: window i is the variable `<name>@<i>`, so every member
   * switches window at the same farm-clock instant. Ended windows are
   * dropped from this member's memory once delivered.
   */
  async windowed(name: string, opts: WindowedOptions): Promise<WindowedCounter> {
    checkCounterName(`${name}@0`, 'variable name');
    const clock: WindowClock = opts.clock ?? await (this.farmClock ??= FarmClock.start(this.client));
    return new WindowedCounter(this, name, opts.windowMs, clock);
  }

  /** Drops `name` from this member's memory after its last change is delivered (an ended window). */
  retire(name: string): void {
    if (this.node.records.has(name)) this.retiring.add(name);
  }

  /** The variables this member holds in memory. */
  variableNames(): string[] {
    return [...this.node.records.keys()];
  }

  /** One exchange with the parent now (exchanges run one at a time; calls meanwhile share the next). */
  sync(): Promise<void> {
    return this.uplink.sync();
  }

  /** A last exchange, then LEAVE: the parent adopts this member's totals [P-14.7]. */
  async close(): Promise<void> {
    try {
      await this.uplink.close();
    } finally {
      const clock = this.farmClock;
      this.farmClock = undefined;
      await clock?.then((c) => c.close(), () => undefined);
    }
  }

  private dropRetired(): void {
    for (const name of this.retiring) {
      if (!this.node.drop(name)) continue;
      this.uplink.forget(name);
      this.watches.delete(name);
      this.retiring.delete(name);
    }
  }

  private want(name: string): void {
    if (this.node.records.has(name)) return;
    checkCounterName(name, 'variable name');
    this.node.record(name);
    if (this.slots?.variables.includes(name)) this.slotBase.set(name, 0n);
    // A new window: the counter's windows older than the kept ones go, as at the root, once delivered.
    const w = parseWindow(name);
    if (w !== undefined) for (const ended of endedWindows(this.node.records.keys(), w.counter)) this.retire(ended);
  }

  private checkWatches(name: string, localChange: boolean): void {
    const v = this.value(name);
    for (const w of this.watches.get(name) ?? []) {
      const above = v >= w.threshold;
      if (above && !w.above) w.listener(v);
      w.above = above;
      if (localChange && w.earlySyncWithin !== undefined && v + w.earlySyncWithin >= w.threshold && !this.uplink.stopped) {
        // Near the threshold: every local change syncs now, flagged urgent so the tree pushes it on.
        this.uplink.markUrgent();
        this.sync().catch(() => undefined);
      }
    }
  }
}
