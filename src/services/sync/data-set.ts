import { EventEmitter } from 'node:events';
import type { Client } from '../../client/client.js';
import type { ServiceChannel } from '../../client/service-channel.js';
import { CorralError, isCorralError } from '../../protocol/corral-error.js';
import type { ServiceMessage } from '../../protocol/service-envelope.js';
import { FarmClock } from '../clock/farm-clock.js';
import { atInstant } from './instant-timer.js';
import {
  decodePage, decodeTable, encodeFetch, encodeReport, encodeWatch, MAX_PAGE_BYTES, SyncFrame, type SyncTable,
} from './sync-frames.js';

export interface DataSetOptions {
  /** This process's clock, ms since the epoch (tests skew it); the farm clock corrects it. */
  clock?: () => number;
  /** A farm clock to share between data sets; by default each data set starts its own. */
  farmClock?: FarmClock;
  /** Re-read the table this often (default 1 s) in case a pushed change was missed. */
  pollMs?: number;
  /** Most bytes of entries per retrieval page (default 512 KiB). */
  pageBytes?: number;
}

/** One activation, as the `change` event tells it. */
export interface DataSetChange {
  version: string;
  previous: string;
  /** Farm time the version was scheduled to activate (NaN for a bootstrap with nothing scheduled). */
  scheduledAt: number;
  /** Farm time of the swap, by this process's farm clock. */
  activatedAt: number;
  /** Staging was not complete at the instant: the version activated as soon as it was [P-13.6]. */
  late: boolean;
  /** The first version this process holds (or one it fetched after missing its instant while away). */
  bootstrap: boolean;
}

/** What one retrieval moved. */
export interface Retrieval {
  version: string;
  /** The version the transfer was a difference from ('' = the whole version). */
  base: string;
  pages: number;
  /** PAGE payload bytes received. */
  bytes: number;
  ms: number;
}

export interface DataSetEvents {
  change: [change: DataSetChange];
  /** After each page of a retrieval: progress of a large one. */
  retrieving: [progress: { version: string; pages: number; bytes: number }];
  staged: [retrieval: Retrieval];
  error: [err: CorralError];
}

interface Version {
  readonly id: string;
  readonly values: ReadonlyMap<string, Buffer>;
}

interface Staged extends Version {
  at: number;
  /** Farm time staging completed: after `at` means the version activates late. */
  completedAt: number;
  retrieval: Retrieval;
}

const now = (): number => performance.now();

/** After a swap, the report and the next poll go out within this many ms, at random. */
const REPORT_SPREAD_MS = 50;
/** After staging, the farm clock is re-measured within this many ms (or half the time left). */
const CLOCK_REFRESH_WITHIN_MS = 2000;

/**
 * A data set on one server [P-13] (seed 001, Fig. 4, web server 102): an
 * active version (`get` reads it, synchronously, from memory) and a staged
 * one retrieved ahead of its instant. At the instant — the hub's activation
 * time converted to this process's clock through the farm clock (seed 001,
 * Fig. 6, step 250) — one assignment swaps the active pointer (claim 4): a
 * reader sees all of the old version or all of the new, never a mix. A
 * version not fully staged at its instant is not activated until it is,
 * and is then reported late.
 */
export class DataSet extends EventEmitter<DataSetEvents> {
  private active: Version = { id: '', values: new Map() };
  private staged: Staged | undefined;
  private table: SyncTable | undefined;
  private cancelTimer: () => void = () => undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private bootstrapped = false;
  private readonly channel: ServiceChannel;
  readonly resource: string;
  /** The last retrieval (staging or catching up), for operators and benchmarks. */
  lastRetrieval: Retrieval | undefined;

  private readonly onPush = (m: ServiceMessage): void => {
    if (m.type !== SyncFrame.TABLE || m.resource !== this.resource) return;
    try {
      this.learn(decodeTable(m.payload));
    } catch (err) {
      this.fail(err);
    }
  };

  private readonly onReconnect = (): void => {
    this.poll().catch((err: unknown) => this.fail(err));
  };

  private constructor(
    private readonly client: Client,
    readonly name: string,
    private readonly farmClock: FarmClock,
    private readonly ownsClock: boolean,
    private readonly opts: DataSetOptions,
  ) {
    super();
    this.resource = `sync|${name}`;
    this.channel = client.service('sync');
  }

  /**
   * Joins the data set: bootstraps from its active version (seed 001: a new
   * or restarted server copies the active data first), stages what is
   * staged, and follows every cycle until `close`.
   */
  static async open(client: Client, name: string, opts: DataSetOptions = {}): Promise<DataSet> {
    const farmClock = opts.farmClock ?? await FarmClock.start(client, { clock: opts.clock });
    const ds = new DataSet(client, name, farmClock, opts.farmClock === undefined, opts);
    ds.channel.on('push', ds.onPush);
    client.on('reconnect', ds.onReconnect);
    try {
      await ds.poll();
      await ds.settled();
    } catch (err) {
      ds.close();
      throw err;
    }
    ds.pollTimer = setInterval(() => { ds.poll().catch((err: unknown) => ds.fail(err)); }, opts.pollMs ?? 1000);
    ds.pollTimer.unref();
    return ds;
  }

  /** The value of `key` in the active version. */
  get(key: string): Buffer | undefined {
    return this.active.values.get(key);
  }

  getString(key: string): string | undefined {
    return this.active.values.get(key)?.toString('utf8');
  }

  getJson<T = unknown>(key: string): T | undefined {
    const v = this.active.values.get(key);
    return v === undefined ? undefined : (JSON.parse(v.toString('utf8')) as T);
  }

  has(key: string): boolean {
    return this.active.values.has(key);
  }

  /** The active version's content; the map is never changed (the next version is a new map). */
  snapshot(): { version: string; values: ReadonlyMap<string, Buffer> } {
    return { version: this.active.id, values: this.active.values };
  }

  get version(): string {
    return this.active.id;
  }

  get size(): number {
    return this.active.values.size;
  }

  /** The staged version waiting for its instant, if any. */
  get pending(): { version: string; activationAt: number } | undefined {
    return this.staged ? { version: this.staged.id, activationAt: this.staged.at } : undefined;
  }

  close(): void {
    this.closed = true;
    this.cancelTimer();
    clearInterval(this.pollTimer);
    this.channel.off('push', this.onPush);
    this.client.off('reconnect', this.onReconnect);
    if (this.ownsClock) this.farmClock.close();
  }

  private farmNow(): number {
    return this.farmClock.now();
  }

  /** WATCH: (re-)registers for pushed tables at the set's current owner and reads the table. */
  private async poll(): Promise<void> {
    if (this.closed) return;
    const reply = await this.channel.request(SyncFrame.WATCH, this.resource, encodeWatch(true));
    this.learn(decodeTable(reply.payload));
    // A retrieval that failed (hub away, request timed out) is tried again with the same table.
    this.kick();
  }

  private learn(t: SyncTable): void {
    if (this.closed || (this.table && t.rev <= this.table.rev)) return;
    this.table = t;
    this.kick();
  }

  private fail(err: unknown): void {
    if (this.closed || this.listenerCount('error') === 0) return;
    this.emit('error', isCorralError(err) ? err : new CorralError('INTERNAL', String(err), { cause: err }));
  }

  /** Runs `reconcile` once more after the current run (one at a time). */
  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.reconcile();
      } while (this.again && !this.closed);
    })().catch((err: unknown) => this.fail(err)).finally(() => { this.running = undefined; });
  }

  private async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Brings this process to the table: reach its active version, stage its staged one. */
  private async reconcile(): Promise<void> {
    const t = this.table;
    if (!t || this.closed) return;
    // Swapped at the instant before the hub's roll reached this process: the table is a cycle behind, never go back.
    if (this.active.id === t.stagedId && this.active.id !== t.activeId) return;
    if (this.active.id !== t.activeId) {
      // Staged and waiting for its instant: the timer swaps it (the hub rolled a hair before this clock's instant).
      if (this.staged?.id === t.activeId) return;
      // Bootstrap (seed 001: copy the active data first), or a version whose instant passed while this process was away.
      const bootstrap = !this.bootstrapped;
      const got = await this.retrieve(t.activeId, this.active);
      if (this.closed) return;
      this.swap({ id: t.activeId, values: got.values }, t.activeSince, !bootstrap, bootstrap, got.retrieval.ms);
      return;
    }
    this.bootstrapped = true;
    if (t.stagedId === t.activeId || Number.isNaN(t.activationAt)) {
      // Rolled back, or nothing scheduled: nothing waits.
      if (this.staged) this.unstage();
      return;
    }
    if (this.staged?.id === t.stagedId) {
      this.staged.at = t.activationAt;
      this.arm(this.staged);
      return;
    }
    if (this.staged) this.unstage();
    const base = this.active;
    const got = await this.retrieve(t.stagedId, base);
    if (this.closed || this.active !== base) {
      this.again = true;
      return;
    }
    const now = this.table!;
    if (now.activeId === t.stagedId) {
      // The hub rolled while this process was staging: the instant has passed; activate at once, late [P-13.6].
      this.emit('staged', got.retrieval);
      this.swap({ id: t.stagedId, values: got.values }, now.activeSince, true, false, got.retrieval.ms);
      return;
    }
    if (now.stagedId !== t.stagedId) {
      this.again = true;
      return;
    }
    this.staged = { id: t.stagedId, values: got.values, at: now.activationAt, completedAt: this.farmNow(), retrieval: got.retrieval };
    this.emit('staged', got.retrieval);
    this.refreshClock(this.staged.at - this.staged.completedAt);
    this.arm(this.staged);
  }

  /**
   * Re-measures the farm clock once between staging and the instant (seed 001,
   * Fig. 6: the clock difference is corrected at retrieval), at a random
   * moment in the first half of what is left, so the servers of a farm do not
   * all measure at once: an estimate taken while the machine was busy (a
   * bootstrap) gives way to a narrower one before it decides an activation.
   */
  private refreshClock(leftMs: number): void {
    if (leftMs <= 0) return;
    const t = setTimeout(() => { if (!this.closed) this.farmClock.measure().catch(() => undefined); }, Math.random() * Math.min(CLOCK_REFRESH_WITHIN_MS, leftMs / 2));
    t.unref();
  }

  private unstage(): void {
    this.cancelTimer();
    this.staged = undefined;
  }

  /**
   * Fires at the instant by this process's farm clock (seed 001, Fig. 6,
   * step 250: the activation time corrected by the clock difference); a
   * version staged after its instant activates at once, late.
   */
  private arm(s: Staged): void {
    this.cancelTimer();
    this.cancelTimer = atInstant(() => s.at - this.farmNow(), () => {
      if (this.staged !== s || this.closed) return;
      this.staged = undefined;
      this.swap(s, s.at, s.completedAt > s.at, false, s.retrieval.ms);
    });
  }

  /** The pointer swap (seed 001, claim 4): one assignment; readers see the old version or the new one. */
  private swap(v: Version, scheduledAt: number, late: boolean, bootstrap: boolean, retrievalMs: number): void {
    const previous = this.active.id;
    this.active = { id: v.id, values: v.values };
    const activatedAt = this.farmNow();
    this.bootstrapped = true;
    this.emit('change', { version: v.id, previous, scheduledAt, activatedAt, late, bootstrap });
    // Not at the instant itself: every server of the farm swaps then, and the hub need not hear from all of them in one millisecond.
    const after = setTimeout(() => {
      if (this.closed) return;
      if (!bootstrap) {
        this.channel.request(SyncFrame.REPORT, this.resource, encodeReport({ version: v.id, activatedAt, late, retrievalMs })).catch(() => undefined);
      }
      // The cycle after this instant may already be staged on the hub.
      this.poll().catch((err: unknown) => this.fail(err));
    }, Math.random() * REPORT_SPREAD_MS);
    after.unref();
    this.kick();
  }

  /** Pages of the difference from `base` to `version`, applied to a copy of base: base is never touched [P-13.4]. */
  private async retrieve(version: string, base: Version): Promise<{ values: Map<string, Buffer>; retrieval: Retrieval }> {
    const start = now();
    let values: Map<string, Buffer> | undefined;
    let after = '';
    let pages = 0;
    let bytes = 0;
    let full = false;
    for (;;) {
      const reply = await this.channel.request(SyncFrame.FETCH, this.resource, encodeFetch({ version, base: base.id, after, maxBytes: this.opts.pageBytes ?? MAX_PAGE_BYTES }));
      if (this.closed) throw new CorralError('CLIENT_CLOSED', 'the data set was closed');
      const page = decodePage(reply.payload);
      pages++;
      bytes += reply.payload.length;
      if (values === undefined) {
        full = page.full;
        values = full ? new Map() : new Map(base.values);
      }
      for (const e of page.entries) {
        if (e.value) values.set(e.key, e.value);
        else values.delete(e.key);
        after = e.key;
      }
      this.emit('retrieving', { version, pages, bytes });
      if (!page.more) break;
    }
    const retrieval = { version, base: full ? '' : base.id, pages, bytes, ms: now() - start };
    this.lastRetrieval = retrieval;
    return { values, retrieval };
  }
}
