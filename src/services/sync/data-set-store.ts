import { createHash } from 'node:crypto';
import { metaKey, type Fence, type MetadataStore } from '../../store/metadata-store.js';
import type { Manifest } from './version-diff.js';

/** Production: the working copy edits go to [P-13.2]; `rev` grows with every edit. */
export interface Production {
  rev: number;
  entries: Map<string, string>;
}

/** Activation reports of one version, as the owner aggregates them [P-13.6]. */
export interface VersionStats {
  activated: number;
  late: number;
  /** Farm times of the first and last reported activation. */
  first: number;
  last: number;
  slowestRetrievalMs: number;
}

export function hashOf(value: Buffer): string {
  return createHash('sha256').update(value).digest('base64url');
}

const toRecord = (m: Manifest): Record<string, string> => Object.fromEntries(m);
const toMap = (json: string): Map<string, string> => new Map(Object.entries(JSON.parse(json) as Record<string, string>));

/**
 * One data set's keys in the metadata store, every write fenced by the
 * owner's epoch [P-13.7]:
 * - `syncfence|<set>`   the epoch of the newest owner (raised on gaining it)
 * - `syncprod|<set>`    production: {rev, entries: key → hash}
 * - `syncver|<set>|<v>` a staged version: key → hash, written once, never changed
 * - `syncval|<set>|<h>` a value (base64) under the hash of its bytes, shared by every version holding it
 * - `syncstats|<set>`   activation reports per version
 * The synchronization table itself is the resource's state (`owned.state`).
 */
export class DataSetStore {
  readonly fence: Fence;

  constructor(private readonly metadata: MetadataStore, private readonly name: string, epoch: number) {
    this.fence = { key: metaKey('syncfence', name), epoch };
  }

  /** Refuses every later write of an older owner of this set (FENCED when a newer one raised it already). */
  async raiseFence(): Promise<void> {
    await this.metadata.put(this.fence.key, String(this.fence.epoch), { fence: this.fence });
  }

  async production(): Promise<Production | undefined> {
    const e = await this.metadata.get(metaKey('syncprod', this.name));
    if (!e) return undefined;
    const stored = JSON.parse(e.value) as { rev: number; entries: Record<string, string> };
    return { rev: stored.rev, entries: new Map(Object.entries(stored.entries)) };
  }

  async saveProduction(p: Production): Promise<void> {
    await this.metadata.put(metaKey('syncprod', this.name), JSON.stringify({ rev: p.rev, entries: toRecord(p.entries) }), { fence: this.fence });
  }

  async manifest(version: string): Promise<Map<string, string> | undefined> {
    const e = await this.metadata.get(metaKey('syncver', this.name, version));
    return e ? toMap(e.value) : undefined;
  }

  async saveManifest(version: string, m: Manifest): Promise<void> {
    await this.metadata.put(metaKey('syncver', this.name, version), JSON.stringify(toRecord(m)), { fence: this.fence });
  }

  async dropManifest(version: string): Promise<void> {
    await this.metadata.delete(metaKey('syncver', this.name, version), undefined, this.fence);
  }

  /** Every stored value of the set, by hash (one query, however many). */
  async values(): Promise<Map<string, Buffer>> {
    const prefix = metaKey('syncval', this.name, '');
    const out = new Map<string, Buffer>();
    for (const e of await this.metadata.list(prefix)) out.set(e.key.slice(prefix.length), Buffer.from(e.value, 'base64'));
    return out;
  }

  async value(hash: string): Promise<Buffer | undefined> {
    const e = await this.metadata.get(metaKey('syncval', this.name, hash));
    return e ? Buffer.from(e.value, 'base64') : undefined;
  }

  /** Writes values in one transaction; FENCED-skipped entries mean a newer owner exists. */
  async putValues(values: ReadonlyMap<string, Buffer>): Promise<boolean> {
    if (values.size === 0) return true;
    const done = await this.metadata.putMany([...values].map(([hash, v]) => ({ key: metaKey('syncval', this.name, hash), value: v.toString('base64'), fence: this.fence })));
    return done.every(Boolean);
  }

  async dropValue(hash: string): Promise<void> {
    await this.metadata.delete(metaKey('syncval', this.name, hash), undefined, this.fence);
  }

  async stats(): Promise<Record<string, VersionStats>> {
    const e = await this.metadata.get(metaKey('syncstats', this.name));
    return e ? (JSON.parse(e.value) as Record<string, VersionStats>) : {};
  }

  async saveStats(stats: Record<string, VersionStats>): Promise<void> {
    await this.metadata.put(metaKey('syncstats', this.name), JSON.stringify(stats), { fence: this.fence });
  }
}
