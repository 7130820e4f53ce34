import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { CorralError } from '../protocol/corral-error.js';
import { metaKey, type MetadataStore } from '../store/metadata-store.js';
import { loadScore, type HubRecord } from './hub-record.js';
import type { Membership } from './membership.js';
import type { Owner, Ownership } from './ownership.js';
import type { RecentPlacements } from './recent-placements.js';

interface OwnerRecord {
  hubId: string;
  epoch: number;
}

export function ownerKey(resource: string): string {
  return metaKey('owner', resource);
}

const MAX_RACES = 8;

/**
 * Ownership in a cluster (seed 002, the message processor's request flow):
 * the owner record of a resource names a hub and a fencing epoch. A live
 * owner is served (here) or redirected to (elsewhere); a resource without a
 * live owner gets the least-loaded live hub, recorded with compare-and-set so
 * that hubs racing for it agree on one, under a higher epoch that fences the
 * previous owner out of the log.
 */
export class ClusterOwnership implements Ownership {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly membership: Membership,
    private readonly logger: Logger,
  ) {}

  async acquire(resource: string): Promise<Owner> {
    const key = ownerKey(resource);
    for (let race = 0; race < MAX_RACES; race++) {
      const [cur, live] = await Promise.all([this.metadata.get(key), this.membership.liveHubs()]);
      const rec = cur ? (JSON.parse(cur.value) as OwnerRecord) : undefined;
      if (rec) {
        const owner = live.find((h) => h.hubId === rec.hubId);
        if (owner) return this.answer(owner, rec.epoch);
      }
      const target = pickOwner(resource, live, this.membership.placements);
      if (!target) throw new CorralError('NOT_OWNER', 'no live hub in the cluster');
      const epoch = (rec?.epoch ?? 0) + 1;
      const res = await this.metadata.put(key, JSON.stringify({ hubId: target.hubId, epoch } satisfies OwnerRecord), { expectedVersion: cur?.version ?? 0 });
      if (res.ok) {
        this.membership.placements.record(target.hubId, loadScore(target.load));
        this.logger.info({ resource, owner: target.hubId, epoch, previous: rec?.hubId }, 'owner assigned');
        return this.answer(target, epoch);
      }
    }
    throw new CorralError('NOT_OWNER', `ownership of ${resource} kept changing; retry`);
  }

  async transfer(resource: string, epoch: number, to: { hubId: string; address: string }): Promise<Owner | undefined> {
    const key = ownerKey(resource);
    const cur = await this.metadata.get(key);
    const rec = cur ? (JSON.parse(cur.value) as OwnerRecord) : undefined;
    if (!cur || rec?.hubId !== this.membership.hubId || rec.epoch !== epoch) return undefined;
    const next: OwnerRecord = { hubId: to.hubId, epoch: epoch + 1 };
    const res = await this.metadata.put(key, JSON.stringify(next), { expectedVersion: cur.version });
    if (!res.ok) return undefined;
    this.logger.info({ resource, owner: to.hubId, epoch: next.epoch }, 'owner handed over');
    return { kind: 'remote', hubId: to.hubId, address: to.address, epoch: next.epoch };
  }

  /** Ownership stays recorded: another hub takes the resource over once this hub is gone. */
  release(): Promise<void> {
    return Promise.resolve();
  }

  /** A cluster hub loads topics on demand only. */
  startupTopics(): Promise<string[]> {
    return Promise.resolve([]);
  }

  private answer(owner: HubRecord, epoch: number): Owner {
    return owner.hubId === this.membership.hubId
      ? { kind: 'local', epoch }
      : { kind: 'remote', hubId: owner.hubId, address: owner.address, epoch };
  }
}

/**
 * The least-loaded hub (seed 002: "select the message processor with the
 * least load"). Reported loads refresh only once per lease renewal, so the
 * resources placed since then count until the reports show them (`placements`), and the
 * choice among hubs within a small slack of the minimum is spread by
 * rendezvous hashing: a burst of new resources fills the emptiest hubs up to
 * the others' level, then spreads over all of them.
 */
export function pickOwner(resource: string, hubs: readonly HubRecord[], placements?: RecentPlacements): HubRecord | undefined {
  if (hubs.length === 0) return undefined;
  const score = (h: HubRecord): number => placements?.effective(h.hubId, loadScore(h.load)) ?? loadScore(h.load);
  const min = Math.min(...hubs.map(score));
  const slack = Math.max(2, min * 0.1);
  let best: HubRecord | undefined;
  let bestRank = '';
  for (const h of hubs) {
    if (score(h) > min + slack) continue;
    const rank = createHash('sha1').update(resource).update('\0').update(h.hubId).digest('hex');
    if (rank > bestRank) {
      best = h;
      bestRank = rank;
    }
  }
  return best;
}
