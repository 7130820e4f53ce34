import { CorralError } from '../protocol/corral-error.js';
import { metaKey, type MetadataStore } from '../store/metadata-store.js';

interface StoredState {
  epoch: number;
  data: string | null;
}

export function resourceStateKey(resource: string): string {
  return metaKey('svc', resource);
}

/**
 * A service's stored state for one resource, fenced by the resource's
 * ownership epoch the way appends are [P-11.4]. Claiming writes the new epoch
 * with compare-and-set, so every later write of an older owner (one resumed
 * after SIGSTOP, still holding the version it read) fails its compare-and-set
 * and is refused with FENCED: nothing it writes lands.
 */
export class ResourceState {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly metadata: MetadataStore,
    readonly resource: string,
    readonly epoch: number,
    private version: number,
    private data: string | undefined,
    private readonly onFenced: () => void,
  ) {}

  /** Takes the state over at `epoch`; FENCED when a newer owner already holds it. */
  static async claim(metadata: MetadataStore, resource: string, epoch: number, onFenced: () => void): Promise<ResourceState> {
    const key = resourceStateKey(resource);
    for (;;) {
      const cur = await metadata.get(key);
      const stored = cur ? (JSON.parse(cur.value) as StoredState) : undefined;
      if (stored && stored.epoch > epoch) {
        throw new CorralError('FENCED', `resource ${resource} is held at epoch ${stored.epoch}, above this hub's ${epoch}`);
      }
      const value = JSON.stringify({ epoch, data: stored?.data ?? null } satisfies StoredState);
      const res = await metadata.put(key, value, { expectedVersion: cur?.version ?? 0 });
      if (res.ok) return new ResourceState(metadata, resource, epoch, res.version, stored?.data ?? undefined, onFenced);
    }
  }

  /** What the last owner wrote (undefined for a new resource). */
  get value(): string | undefined {
    return this.data;
  }

  /**
   * Replaces the state; FENCED (nothing written, ownership given up) when
   * another owner claimed it since. Writes run one at a time, in call order.
   */
  write(data: string): Promise<void> {
    const p = this.writing.then(() => this.put(data));
    this.writing = p.catch(() => undefined);
    return p;
  }

  private async put(data: string): Promise<void> {
    const value = JSON.stringify({ epoch: this.epoch, data } satisfies StoredState);
    const res = await this.metadata.put(resourceStateKey(this.resource), value, { expectedVersion: this.version });
    if (!res.ok) {
      this.onFenced();
      throw new CorralError('FENCED', `resource ${this.resource} was taken over; this hub's epoch ${this.epoch} is stale`);
    }
    this.version = res.version;
    this.data = data;
  }
}
