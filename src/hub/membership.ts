import type { Logger } from 'pino';
import type { MetadataStore } from '../store/metadata-store.js';
import { RecentPlacements } from './recent-placements.js';
import { HUB_PREFIX, hubKey, type HubLoad, type HubRecord } from './hub-record.js';

export interface MembershipOptions {
  /** A hub whose lease is not renewed within this time is dead to the cluster. */
  leaseMs: number;
  renewEveryMs: number;
}

/**
 * This hub's registration in the cluster: a lease key in the metadata store,
 * renewed with compare-and-set and bound to the hub's store session
 * (ephemeral), so it vanishes the moment the process dies and lapses when the
 * process hangs. A renewal that finds the lease gone means other hubs may
 * already have taken this hub's topics: `onLost` must drop them all before
 * the hub serves again.
 */
export class Membership {
  private version = 0;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private stopped = false;
  /** Resources this hub placed on others that their reports may not show yet: about two reports' time. */
  readonly placements: RecentPlacements;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly self: Omit<HubRecord, 'load'>,
    private readonly load: () => HubLoad,
    private readonly opts: MembershipOptions,
    private readonly logger: Logger,
    private readonly onLost: () => Promise<void>,
  ) {
    this.placements = new RecentPlacements(2 * opts.renewEveryMs);
  }

  get hubId(): string {
    return this.self.hubId;
  }

  /** The addresses other hubs redirect clients to; set once listening, before `join`. */
  advertise(address: string, httpAddress: string): void {
    this.self.address = address;
    this.self.httpAddress = httpAddress;
  }

  async join(): Promise<void> {
    const res = await this.metadata.put(hubKey(this.self.hubId), this.encode(), { expectedVersion: 0, ttlMs: this.opts.leaseMs, ephemeral: true });
    if (!res.ok) throw new Error(`hub id ${this.self.hubId} is already registered`);
    this.version = res.version;
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => { this.renewing = undefined; });
    }, this.opts.renewEveryMs);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    try {
      const res = await this.metadata.put(hubKey(this.self.hubId), this.encode(), { expectedVersion: this.version, ttlMs: this.opts.leaseMs, ephemeral: true });
      if (res.ok) {
        this.version = res.version;
        return;
      }
      this.logger.warn({ hubId: this.self.hubId }, 'lease lost; dropping every topic before rejoining');
      await this.onLost();
      const again = await this.metadata.put(hubKey(this.self.hubId), this.encode(), { expectedVersion: 0, ttlMs: this.opts.leaseMs, ephemeral: true });
      if (again.ok) this.version = again.version;
    } catch (err) {
      // The store is unreachable: the lease may lapse; the log's fencing keeps
      // a stale hub from writing, and the next renewal tells.
      this.logger.warn({ err }, 'lease renewal failed');
    }
  }

  /** Every hub whose lease is live, this one included. */
  async liveHubs(): Promise<HubRecord[]> {
    const entries = await this.metadata.list(HUB_PREFIX);
    return entries.map((e) => JSON.parse(e.value) as HubRecord);
  }

  async leave(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.renewing;
    await this.metadata.delete(hubKey(this.self.hubId));
  }

  private encode(): string {
    return JSON.stringify({ ...this.self, load: this.load() } satisfies HubRecord);
  }
}
