import type { Logger } from 'pino';
import { CorralError } from '../../protocol/corral-error.js';
import { encodeServiceMessage } from '../../protocol/service-envelope.js';
import type { MetadataStore } from '../../store/metadata-store.js';
import type { OwnedResource, ServiceConnection } from '../../hub/hub-service.js';
import { DataSetStore, hashOf, type Production, type VersionStats } from './data-set-store.js';
import {
  emptyTable, IMMINENT_MS, isDue, KEPT_VERSIONS, MAX_INTERVAL_MS, MIN_INTERVAL_MS, retain, rolled, wireTable, type StoredTable,
} from './sync-cycle.js';
import {
  encodeTable, MAX_KEY_BYTES, MAX_PAGE_BYTES, MAX_VALUE_BYTES, SyncFrame, type Edit, type Entry, type FetchRequest, type Page, type ReadWhich, type Report,
} from './sync-frames.js';
import { diffVersions, pageOf, type DiffEntry, type Manifest } from './version-diff.js';

/** What a data set needs of its service: farm time, and where rolls and reports are counted. */
export interface DataSetEnv {
  /** Farm time now (the store's clock, as this hub estimates it). */
  farmNow(): Promise<number>;
  logger: Logger;
  rolledCycle(name: string): void;
  reported(name: string, report: Report, spreadMs: number): void;
}

const EMPTY: Manifest = new Map();
const KEPT_DIFFS = 16;

function sameContent(a: Manifest, b: Manifest): boolean {
  if (a.size !== b.size) return false;
  for (const [k, h] of a) if (b.get(k) !== h) return false;
  return true;
}

export function checkEntry(e: Entry): void {
  const n = Buffer.byteLength(e.key);
  if (n === 0 || n > MAX_KEY_BYTES) throw new CorralError('INVALID_KEY', `key of ${n} bytes: keys are 1–${MAX_KEY_BYTES} bytes`);
  if (e.value && e.value.length > MAX_VALUE_BYTES) {
    throw new CorralError('VALUE_TOO_LARGE', `value of key ${JSON.stringify(e.key.slice(0, 64))} is ${e.value.length} bytes; the limit is ${MAX_VALUE_BYTES}`);
  }
}

/**
 * One data set on its owner hub [P-13]: production, the immutable staged
 * and active versions, the synchronization table, the servers watching it.
 * Every change of the table is one compare-and-set write of the resource's
 * fenced state, so a roll happens exactly once whichever hub runs it and
 * whenever one dies (the seed's lock, seed 001 Fig. 5 steps 220/232, is not
 * needed). Changes run one at a time.
 */
export class DataSetResource {
  readonly name: string;
  private table: StoredTable;
  private production: Production;
  private readonly manifests = new Map<string, Manifest>();
  private readonly diffs = new Map<string, DiffEntry[]>();
  private readonly watchers = new Set<ServiceConnection>();
  private readonly imports = new Map<ServiceConnection, { replaceAll: boolean; keys: Map<string, string | undefined> }>();
  private stats: Record<string, VersionStats>;
  private statsDirty = false;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private open = true;
  private exists: boolean;

  private constructor(
    private readonly owned: OwnedResource,
    private readonly store: DataSetStore,
    private readonly values: Map<string, Buffer>,
    private readonly env: DataSetEnv,
    table: StoredTable,
    production: Production | undefined,
    stats: Record<string, VersionStats>,
  ) {
    this.name = owned.resource.slice(owned.resource.indexOf('|') + 1);
    this.table = table;
    this.production = production ?? { rev: 0, entries: new Map() };
    this.exists = production !== undefined || table.rev > 0;
    this.stats = stats;
  }

  /** Takes the set over at the owner's epoch: raises its fence, loads it, rolls a cycle that came due while no hub held it. */
  static async gain(owned: OwnedResource, metadata: MetadataStore, env: DataSetEnv): Promise<DataSetResource> {
    const name = owned.resource.slice(owned.resource.indexOf('|') + 1);
    const store = new DataSetStore(metadata, name, owned.epoch);
    await store.raiseFence();
    const table = owned.state.value === undefined ? emptyTable() : (JSON.parse(owned.state.value) as StoredTable);
    const [production, values, stats] = await Promise.all([store.production(), store.values(), store.stats()]);
    const ds = new DataSetResource(owned, store, values, env, table, production, stats);
    await ds.serial(() => ds.rollIfDue());
    ds.arm();
    return ds;
  }

  get epoch(): number {
    return this.owned.epoch;
  }

  /** Changes one at a time, in arrival order; NOT_OWNER once the set left this hub. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(() => {
      if (!this.open) throw new CorralError('NOT_OWNER', `data set ${this.name} left this hub; retry`);
      return fn();
    });
    this.queue = p.catch(() => undefined);
    return p.catch((err: unknown) => this.fenced(err));
  }

  /**
   * A fenced write of this set's keys means a newer owner exists: writing the
   * state once more is refused too, and that refusal makes the host give the
   * resource up, so the client is sent on to the new owner.
   */
  private async fenced(err: unknown): Promise<never> {
    if (err instanceof CorralError && err.code === 'FENCED' && this.open) {
      await this.owned.state.write(JSON.stringify(this.table)).catch(() => undefined);
    }
    throw err;
  }

  // ---- the cycle

  private async rollIfDue(): Promise<void> {
    const now = await this.env.farmNow();
    if (!isDue(this.table, now)) return;
    const t = this.table;
    // seed 001, Fig. 5, step 230: production → staged, but only when it changed (the seed's alternate embodiment).
    const staged = t.intervalMs > 0 ? await this.stageProduction(t.stagedId) : undefined;
    const next = rolled(t, now, staged);
    await this.commit(staged === undefined ? next : { ...next, nextSeq: t.nextSeq + 1 }, staged);
    this.env.rolledCycle(this.name);
    this.env.logger.info({ dataSet: this.name, cycle: next.cycle, active: next.activeId, staged: next.stagedId }, 'data set rolled');
  }

  /** A new immutable version from production, or undefined when production equals version `compareTo`. */
  private async stageProduction(compareTo: string): Promise<string | undefined> {
    const current = await this.manifest(compareTo);
    if (current && sameContent(this.production.entries, current)) return undefined;
    const id = `v${this.table.nextSeq}.${this.owned.epoch}`;
    const m = new Map(this.production.entries);
    await this.store.saveManifest(id, m);
    this.manifests.set(id, m);
    return id;
  }

  /** The table write, compare-and-set on the fenced state: this is what makes a change (or a roll) happen once. */
  private async commit(next: StoredTable, added: string | undefined): Promise<void> {
    const { versions, dropped } = retain(next, added ?? next.stagedId);
    const t = { ...next, versions };
    await this.owned.state.write(JSON.stringify(t));
    this.table = t;
    this.exists = true;
    this.push();
    this.arm();
    if (dropped.length > 0) await this.collect(dropped).catch((err: unknown) => this.env.logger.warn({ err, dataSet: this.name }, 'data set collection failed'));
  }

  /** Drops versions no longer retained, and values no retained version or production holds. */
  private async collect(dropped: readonly string[]): Promise<void> {
    for (const v of dropped) {
      await this.store.dropManifest(v);
      this.manifests.delete(v);
      for (const k of this.diffs.keys()) if (k.split('>').includes(v)) this.diffs.delete(k);
    }
    const held = new Set(this.production.entries.values());
    for (const v of this.table.versions) for (const h of (await this.manifest(v))?.values() ?? []) held.add(h);
    for (const h of [...this.values.keys()]) {
      if (held.has(h)) continue;
      await this.store.dropValue(h);
      this.values.delete(h);
    }
  }

  /** A timer at the activation instant rolls the cycle even when no server asks (they activate on their own timers). */
  private arm(): void {
    clearTimeout(this.timer);
    const at = this.table.activationAt;
    if (at === null || !this.open) return;
    void this.env.farmNow().then((now) => {
      if (!this.open || this.table.activationAt !== at) return;
      this.timer = setTimeout(() => {
        this.serial(() => this.rollIfDue()).then(() => this.arm(), (err: unknown) => {
          this.env.logger.warn({ err, dataSet: this.name }, 'data set roll failed; the next request retries it');
        });
      }, Math.min(Math.max(0, at - now) + 1, 3600_000));
      this.timer.unref();
    });
  }

  private push(): void {
    const frame = encodeServiceMessage({ type: SyncFrame.TABLE, corr: 0, resource: this.owned.resource, payload: encodeTable(wireTable(this.table)) });
    for (const c of this.watchers) c.send(frame);
  }

  private async manifest(version: string): Promise<Manifest | undefined> {
    if (version === '') return EMPTY;
    let m = this.manifests.get(version);
    if (!m) {
      m = await this.store.manifest(version);
      if (m) this.manifests.set(version, m);
    }
    return m;
  }

  private mustExist(): void {
    if (!this.exists) throw new CorralError('UNKNOWN_DATA_SET', `data set ${this.name} does not exist (nothing was ever set or imported)`);
  }

  // ---- requests

  /** seed 001, Fig. 5: the first server to ask after the activation instant rolls the cycle; everyone gets the table. */
  async watch(from: ServiceConnection, watch: boolean): Promise<StoredTable> {
    await this.serial(() => this.rollIfDue());
    if (watch && !this.watchers.has(from)) {
      this.watchers.add(from);
      from.onClose(() => this.watchers.delete(from));
    }
    return this.table;
  }

  async fetch(req: FetchRequest): Promise<Page> {
    if (!this.open) throw new CorralError('NOT_OWNER', `data set ${this.name} left this hub; retry`);
    this.mustExist();
    const target = req.version === '' ? undefined : await this.manifest(req.version);
    if (!target) throw new CorralError('UNKNOWN_VERSION', `data set ${this.name} has no version ${JSON.stringify(req.version)}`);
    const base = req.base === '' ? undefined : await this.manifest(req.base);
    const key = `${base ? req.base : ''}>${req.version}`;
    let diff = this.diffs.get(key);
    if (!diff) {
      diff = diffVersions(base, target);
      this.diffs.set(key, diff);
      if (this.diffs.size > KEPT_DIFFS) this.diffs.delete(this.diffs.keys().next().value!);
    }
    const maxBytes = req.maxBytes === 0 ? MAX_PAGE_BYTES : Math.min(req.maxBytes, MAX_PAGE_BYTES);
    const page = pageOf(diff, req.after, maxBytes, (h) => {
      const v = this.values.get(h);
      if (!v) throw new CorralError('INTERNAL', `data set ${this.name}: value ${h} of version ${req.version} is missing`);
      return v;
    });
    return { version: req.version, full: base === undefined, ...page };
  }

  /**
   * An edit of production. Batches marked `more` wait (per connection) for the
   * last one, which applies them all in one production write: a roll in
   * between cannot stage half an import.
   */
  edit(from: ServiceConnection, e: Edit): Promise<unknown> {
    for (const entry of e.entries) checkEntry(entry);
    return this.serial(async () => {
      let batch = e.continued ? this.imports.get(from) : undefined;
      if (e.continued && !batch) {
        // The earlier batches went to a hub that lost the set (or the connection dropped): nothing of them applies.
        throw new CorralError('INVALID_ARGUMENT', `the edit of ${this.name} was interrupted (its earlier batches are gone); send it again from the start`);
      }
      if (!batch) {
        batch = { replaceAll: e.replaceAll, keys: new Map() };
        if (!this.imports.has(from)) from.onClose(() => this.imports.delete(from));
        this.imports.set(from, batch);
      }
      const fresh = new Map<string, Buffer>();
      for (const entry of e.entries) {
        if (!entry.value) {
          batch.keys.set(entry.key, undefined);
          continue;
        }
        const h = hashOf(entry.value);
        batch.keys.set(entry.key, h);
        if (!this.values.has(h)) fresh.set(h, entry.value);
      }
      // Values first: content-addressed, so one no production names yet is harmless.
      if (!(await this.store.putValues(fresh))) throw new CorralError('FENCED', `data set ${this.name} was taken over`);
      for (const [h, v] of fresh) this.values.set(h, v);
      if (e.more) return { dataSet: this.name, pending: batch.keys.size };
      this.imports.delete(from);
      const next = batch.replaceAll ? new Map<string, string>() : new Map(this.production.entries);
      for (const [k, h] of batch.keys) {
        if (h === undefined) next.delete(k);
        else next.set(k, h);
      }
      let changed = 0;
      for (const [k, h] of next) if (this.production.entries.get(k) !== h) changed++;
      for (const k of this.production.entries.keys()) if (!next.has(k)) changed++;
      const production = { rev: this.production.rev + 1, entries: next };
      await this.store.saveProduction(production);
      this.production = production;
      this.exists = true;
      return { dataSet: this.name, productionRev: production.rev, keys: next.size, changed };
    });
  }

  /** Stages production for `at` (NaN: the instant already set), with a new interval (NaN: unchanged) [P-13.5]. */
  schedule(at: number, intervalMs: number): Promise<unknown> {
    return this.serial(async () => {
      this.mustExist();
      await this.rollIfDue();
      const now = await this.env.farmNow();
      if (!Number.isNaN(at) && !(Number.isFinite(at) && at > now)) {
        throw new CorralError('SCHEDULE_IN_PAST', `activation at ${isoOf(at)} is not after farm time ${isoOf(now)}`);
      }
      if (!Number.isNaN(intervalMs) && intervalMs !== 0 && !(intervalMs >= MIN_INTERVAL_MS && intervalMs <= MAX_INTERVAL_MS)) {
        throw new CorralError('INVALID_ARGUMENT', `interval ${intervalMs} ms: 0 (one activation) or ${MIN_INTERVAL_MS} ms to one year`);
      }
      this.refuseImminent(now);
      const t = this.table;
      const activationAt = Number.isNaN(at) ? t.activationAt : at;
      if (activationAt === null) throw new CorralError('INVALID_ARGUMENT', `data set ${this.name} has no activation time yet: give one`);
      const staged = await this.stageProduction(t.stagedId);
      await this.commit({
        ...t, rev: t.rev + 1, stagedId: staged ?? t.stagedId, activationAt,
        intervalMs: Number.isNaN(intervalMs) ? t.intervalMs : intervalMs, nextSeq: t.nextSeq + (staged ? 1 : 0),
      }, staged);
      return { ...this.describeTable(), warning: this.tightness(activationAt - now) };
    });
  }

  /** Withdraws the staged version before it activates: staged and production go back to the active version [P-13.5]. */
  rollback(version: string): Promise<unknown> {
    return this.serial(async () => {
      this.mustExist();
      await this.rollIfDue();
      const t = this.table;
      if (version !== '' && version === t.activeId) throw new CorralError('VERSION_ACTIVE', `version ${version} of ${this.name} is active; only a staged version can be rolled back`);
      if (t.stagedId === t.activeId) throw new CorralError('VERSION_ACTIVE', `nothing is staged in ${this.name} beyond the active version ${t.activeId || '(none)'}`);
      if (version !== '' && version !== t.stagedId) throw new CorralError('UNKNOWN_VERSION', `version ${version} is not the staged version of ${this.name} (${t.stagedId})`);
      this.refuseImminent(await this.env.farmNow());
      const active = new Map(await this.manifest(t.activeId) ?? EMPTY);
      const production = { rev: this.production.rev + 1, entries: active };
      await this.store.saveProduction(production);
      this.production = production;
      const withdrawn = t.stagedId;
      await this.commit({ ...t, rev: t.rev + 1, stagedId: t.activeId }, undefined);
      return { ...this.describeTable(), rolledBack: withdrawn };
    });
  }

  private refuseImminent(now: number): void {
    const t = this.table;
    if (t.activationAt !== null && t.stagedId !== t.activeId && t.activationAt - now < IMMINENT_MS) {
      throw new CorralError('ACTIVATION_IMMINENT', `version ${t.stagedId} of ${this.name} activates in ${Math.max(0, t.activationAt - now).toFixed(0)} ms; too late to change it`);
    }
  }

  /** The seed requires the interval to exceed the worst retrieval time: say so when it does not. */
  private tightness(leadMs: number): string | undefined {
    const slowest = Math.max(0, ...Object.values(this.stats).map((s) => s.slowestRetrievalMs));
    const t = this.table;
    const tightest = Math.min(leadMs, t.intervalMs > 0 ? t.intervalMs : Infinity);
    if (slowest > 0 && tightest < slowest) {
      return `the schedule leaves ${tightest.toFixed(0)} ms to retrieve, less than the slowest server's last retrieval (${slowest.toFixed(0)} ms): servers may activate late`;
    }
    return undefined;
  }

  async read(which: ReadWhich, key: string): Promise<{ found: boolean; version: string; value: Buffer | undefined }> {
    this.mustExist();
    checkEntry({ key, value: undefined });
    const version = which === 'production' ? `production@${this.production.rev}` : which === 'active' ? this.table.activeId : this.table.stagedId;
    const m = which === 'production' ? this.production.entries : await this.manifest(version);
    const h = m?.get(key);
    const value = h === undefined ? undefined : (this.values.get(h) ?? await this.store.value(h));
    return { found: value !== undefined, version, value };
  }

  report(r: Report): void {
    const s = this.stats[r.version] ?? { activated: 0, late: 0, first: r.activatedAt, last: r.activatedAt, slowestRetrievalMs: 0 };
    s.activated++;
    if (r.late) s.late++;
    s.first = Math.min(s.first, r.activatedAt);
    s.last = Math.max(s.last, r.activatedAt);
    s.slowestRetrievalMs = Math.max(s.slowestRetrievalMs, r.retrievalMs);
    this.stats[r.version] = s;
    const kept = Object.keys(this.stats);
    for (const v of kept.slice(0, Math.max(0, kept.length - 2 * KEPT_VERSIONS))) delete this.stats[v];
    this.statsDirty = true;
    this.env.reported(this.name, r, s.last - s.first);
  }

  async flushStats(): Promise<void> {
    if (!this.statsDirty || !this.open) return;
    this.statsDirty = false;
    try {
      await this.store.saveStats(this.stats);
    } catch (err) {
      this.statsDirty = true;
      await this.fenced(err);
    }
  }

  private describeTable(): Record<string, unknown> {
    const t = this.table;
    return {
      dataSet: this.name, rev: t.rev, cycle: t.cycle, active: t.activeId, activeSince: isoOrNull(t.activeSince),
      staged: t.stagedId, activationAt: isoOrNull(t.activationAt), intervalMs: t.intervalMs,
    };
  }

  async status(): Promise<unknown> {
    this.mustExist();
    const t = this.table;
    const versions = await Promise.all(t.versions.map(async (v) => ({
      version: v, state: v === t.activeId ? 'active' : v === t.stagedId ? 'staged' : 'retained',
      keys: (await this.manifest(v))?.size ?? 0, ...this.reportOf(v),
    })));
    return {
      ...this.describeTable(), epoch: this.owned.epoch, productionRev: this.production.rev, productionKeys: this.production.entries.size,
      watchers: this.watchers.size, versions, history: t.history.slice(-10).map((h) => ({ ...h, at: isoOf(h.at) })),
      warning: t.activationAt === null ? undefined : this.tightness(t.intervalMs > 0 ? t.intervalMs : Infinity),
    };
  }

  private reportOf(v: string): Record<string, unknown> {
    const s = this.stats[v];
    return s ? { activated: s.activated, late: s.late, spreadMs: s.last - s.first, slowestRetrievalMs: s.slowestRetrievalMs } : { activated: 0, late: 0 };
  }

  async handOff(): Promise<void> {
    await this.flushStats();
    this.close();
  }

  close(): void {
    this.open = false;
    clearTimeout(this.timer);
    this.watchers.clear();
  }
}

function isoOf(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : String(t);
}

function isoOrNull(t: number | null): string | null {
  return t === null ? null : isoOf(t);
}
