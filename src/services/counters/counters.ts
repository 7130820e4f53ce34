import { EventEmitter } from 'node:events';
import type { Client } from '../../client/client.js';
import type { ServiceChannel } from '../../client/service-channel.js';
import { CorralError, isCorralError } from '../../protocol/corral-error.js';
import type { ServiceMessage } from '../../protocol/service-envelope.js';
import { CounterNode, type NamedEntry } from './counter-node.js';
import type { CounterSlots } from './counter-slots.js';
import {
  checkCounterName, counterResource, CountersFrame, decodeParentValues, decodeRegistered, decodeSetDone, decodeSubscribed,
  decodeSyncReply, encodeRegister, encodeSet, encodeSubscribe, encodeSync, encodeToken, MAX_BATCH, SYNC_FULL, SYNC_URGENT,
  wrapU64, type Entry, type TreeView,
} from './counters-frames.js';

export interface CountersOptions {
  /** This member's id in the partition, unique per process (a restarted process reuses it: [P-14.2]). */
  memberId: string;
  /** The partition of variables (default `default`): one root, one exchange per interval for all its variables. */
  partition?: string;
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

/** What this member exchanged, for tests and benchmarks: frames and bytes on the wire each way. */
export interface CountersStats {
  syncs: number;
  bytesUp: number;
  bytesDown: number;
  entriesUp: number;
  entriesDown: number;
  pushes: number;
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
  private readonly channel: ServiceChannel;
  private readonly tokens = new Map<string, number>();
  private readonly names = new Map<number, string>();
  private readonly watches = new Map<string, Watch[]>();
  /** Main-thread increments of variables that also have slots. */
  private readonly slotBase = new Map<string, bigint>();
  private readonly stat: CountersStats = { syncs: 0, bytesUp: 0, bytesDown: 0, entriesUp: 0, entriesDown: 0, pushes: 0 };
  private readonly frameOverhead: number;
  private token = 0;
  private epoch = 0;
  private seq = 0;
  private full = true;
  private urgent = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private queued: Promise<void> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly onPush = (m: ServiceMessage): void => this.pushed(m);
  private readonly onReconnect = (): void => { this.full = true; };

  private constructor(private readonly client: Client, readonly memberId: string, private readonly slots: CounterSlots | undefined, partition: string) {
    super();
    this.resource = counterResource(partition);
    this.channel = client.service('counters');
    // A frame: u32 length, u8 type, u32 corr, the resource as str, then the payload [P-11.1].
    this.frameOverhead = 5 + 4 + 2 + Buffer.byteLength(this.resource);
    for (const name of slots?.variables ?? []) this.want(name);
  }

  /** Registers with the partition's root (claims 12–14) and starts the periodic exchange. */
  static async join(client: Client, opts: CountersOptions): Promise<Counters> {
    checkCounterName(opts.memberId, 'member id');
    const c = new Counters(client, opts.memberId, opts.slots, opts.partition ?? 'default');
    await c.register();
    c.channel.on('push', c.onPush);
    client.on('reconnect', c.onReconnect);
    c.timer = setInterval(() => { c.sync().catch(() => undefined); }, opts.syncIntervalMs ?? 100);
    c.timer.unref();
    return c;
  }

  /** Adds `n` to this member's contribution: a local operation, sent at the next exchange. */
  increment(name: string, n: bigint | number = ONE): void {
    const by = typeof n === 'bigint' ? n : BigInt(n);
    if (this.slotBase.has(name)) this.slotBase.set(name, wrapU64(this.slotBase.get(name)! + by));
    else {
      if (!this.tokens.has(name)) this.want(name);
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

  /** Sets the global value at the root (a reset with 0n); resolves with the value before. */
  async setGlobal(name: string, value: bigint): Promise<bigint> {
    this.want(name);
    const reply = await this.channel.request(CountersFrame.SET, this.resource, encodeSet(name, value));
    const previous = decodeSetDone(reply.payload).previous;
    await this.sync();
    return previous;
  }

  /** The partition's tree as its root sees it. */
  tree(): Promise<TreeView> {
    return Counters.readTree(this.client, this.resource.slice(this.resource.indexOf('|') + 1));
  }

  /** A partition's tree as its root sees it, without joining it (`corral counters`). */
  static async readTree(client: Client, partition: string): Promise<TreeView> {
    const reply = await client.service('counters').request(CountersFrame.TREE, counterResource(partition));
    return JSON.parse(reply.payload.toString('utf8')) as TreeView;
  }

  stats(): CountersStats {
    return { ...this.stat };
  }

  /** One exchange with the root now (exchanges run one at a time; calls meanwhile share the next). */
  sync(): Promise<void> {
    if (this.stopped) return Promise.reject(new CorralError('CLIENT_CLOSED', `member ${this.memberId} has stopped`));
    this.queued ??= this.chain.then(() => {
      this.queued = undefined;
      return this.exchange();
    });
    this.chain = this.queued.catch(() => undefined);
    return this.queued;
  }

  /** A last exchange, then LEAVE: the root adopts this member's totals [P-14.7]. */
  async close(): Promise<void> {
    if (this.stopped) return;
    clearInterval(this.timer);
    try {
      await this.sync();
      await this.channel.request(CountersFrame.LEAVE, this.resource, encodeToken(this.token));
    } finally {
      this.stop();
    }
  }

  private stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.channel.off('push', this.onPush);
    this.client.off('reconnect', this.onReconnect);
  }

  private async register(): Promise<void> {
    const reply = await this.channel.request(CountersFrame.REGISTER, this.resource, encodeRegister(this.memberId, this.epoch));
    const r = decodeRegistered(reply.payload);
    this.token = r.token;
    this.epoch = r.epoch;
  }

  private want(name: string): void {
    if (this.tokens.has(name) || this.node.records.has(name)) return;
    checkCounterName(name, 'variable name');
    this.node.record(name);
    if (this.slots?.variables.includes(name)) this.slotBase.set(name, 0n);
  }

  private async exchange(): Promise<void> {
    try {
      await this.subscribeNew();
      for (const [name, base] of this.slotBase) this.node.setLocal(name, wrapU64(base + this.slots!.sum(name)));
      const up = this.node.takeUp();
      let sent = 0;
      try {
        // One SYNC per MAX_BATCH entries; the last (or only) one may be empty: it still fetches the parent values.
        do {
          const batch = up.slice(sent, sent + MAX_BATCH);
          await this.syncBatch(batch);
          sent += batch.length;
        } while (sent < up.length);
      } catch (err) {
        this.node.upFailed(up.slice(sent));
        throw err;
      }
    } catch (err) {
      const e = isCorralError(err) ? err : new CorralError('INTERNAL', 'counter exchange failed', { cause: err });
      this.full = true;
      if (e.code === 'UNKNOWN_MEMBER_TOKEN') await this.relink();
      if (this.listenerCount('error') > 0) this.emit('error', e);
      throw e;
    }
  }

  /** The root no longer knows this token: ask for the link back under this epoch; a newer incarnation means stop. */
  private async relink(): Promise<void> {
    try {
      await this.register();
    } catch (err) {
      if (isCorralError(err, 'LINK_REFUSED')) this.stop();
    }
  }

  private async subscribeNew(): Promise<void> {
    const fresh = [...this.node.records.keys()].filter((n) => !this.tokens.has(n));
    for (let i = 0; i < fresh.length; i += MAX_BATCH) {
      const names = fresh.slice(i, i + MAX_BATCH);
      const reply = await this.channel.request(CountersFrame.SUBSCRIBE, this.resource, encodeSubscribe(this.token, names));
      decodeSubscribed(reply.payload).forEach((t, j) => {
        this.tokens.set(names[j]!, t);
        this.names.set(t, names[j]!);
      });
      this.full = true;
    }
  }

  private async syncBatch(batch: readonly NamedEntry[]): Promise<void> {
    const flags = (this.full ? SYNC_FULL : 0) | (this.urgent ? SYNC_URGENT : 0);
    this.full = false;
    this.urgent = false;
    const entries: Entry[] = batch.map(([name, v]) => [this.tokens.get(name)!, v]);
    const payload = encodeSync({ token: this.token, seq: ++this.seq, flags, entries });
    this.stat.bytesUp += this.frameOverhead + payload.length;
    this.stat.entriesUp += entries.length;
    const reply = await this.channel.request(CountersFrame.SYNC, this.resource, payload);
    this.stat.syncs++;
    this.stat.bytesDown += this.frameOverhead + reply.payload.length;
    this.applyParents(decodeSyncReply(reply.payload));
  }

  private pushed(m: ServiceMessage): void {
    if (m.resource !== this.resource || m.type !== CountersFrame.PARENT_VALUES) return;
    const p = decodeParentValues(m.payload);
    if (p.token !== this.token) return;
    this.stat.pushes++;
    this.stat.bytesDown += this.frameOverhead + m.payload.length;
    this.applyParents(p.entries);
  }

  private applyParents(entries: readonly Entry[]): void {
    this.stat.entriesDown += entries.length;
    for (const [t, v] of entries) {
      const name = this.names.get(t);
      if (name === undefined) continue;
      this.node.applyParent(name, v);
      if (this.watches.has(name)) this.checkWatches(name, false);
    }
    if (entries.length > 0) this.emit('update');
  }

  private checkWatches(name: string, localChange: boolean): void {
    const v = this.value(name);
    for (const w of this.watches.get(name) ?? []) {
      const above = v >= w.threshold;
      if (above && !w.above) w.listener(v);
      w.above = above;
      if (localChange && w.earlySyncWithin !== undefined && v + w.earlySyncWithin >= w.threshold && !this.stopped) {
        // Near the threshold: every local change syncs now, flagged urgent so the root pushes it on.
        this.urgent = true;
        this.sync().catch(() => undefined);
      }
    }
  }
}
