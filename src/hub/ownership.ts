import type { MessageLog } from '../store/message-log.js';
import type { MetadataStore } from '../store/metadata-store.js';
import { metaKey } from '../store/metadata-store.js';

/**
 * Who owns a named resource (a topic, later a gate or a data set). A local
 * owner writes with `epoch`; a remote owner is where requests are redirected
 * (seed 002: "determine whether the message processor itself is currently
 * responsible for the topic").
 */
export type Owner =
  | { kind: 'local'; epoch: number }
  | { kind: 'remote'; hubId: string; address: string; epoch: number };

export interface Ownership {
  acquire(resource: string): Promise<Owner>;
  /** The hub no longer serves the resource (unloaded, moved, fenced). */
  release(resource: string): Promise<void>;
  /**
   * Hands a resource this hub owns (at `epoch`) to another hub under a higher
   * epoch. Undefined when the record changed meanwhile (someone else took it).
   */
  transfer(resource: string, epoch: number, to: { hubId: string; address: string }): Promise<Owner | undefined>;
  /** Topics to load when the hub starts (so GC finishes what a previous run left). */
  startupTopics(log: MessageLog): Promise<string[]>;
}

/**
 * A standalone hub owns everything. Its epoch is a boot counter kept in the
 * metadata store, so a second hub started on the same data directory fences
 * the first one out of every topic it claims.
 */
export class StandaloneOwnership implements Ownership {
  private constructor(readonly epoch: number) {}

  static async start(metadata: MetadataStore): Promise<StandaloneOwnership> {
    const key = metaKey('standalone', 'epoch');
    for (;;) {
      const cur = await metadata.get(key);
      const next = (cur ? Number(cur.value) : 0) + 1;
      const res = await metadata.put(key, String(next), { expectedVersion: cur?.version ?? 0 });
      if (res.ok) return new StandaloneOwnership(next);
    }
  }

  acquire(): Promise<Owner> {
    return Promise.resolve({ kind: 'local', epoch: this.epoch });
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  /** A standalone hub has no one to hand to. */
  transfer(): Promise<Owner | undefined> {
    return Promise.resolve(undefined);
  }

  /** Every topic with stored messages. */
  async startupTopics(log: MessageLog): Promise<string[]> {
    return (await log.topics()).filter((b) => b.firstSeq <= b.lastSeq).map((b) => b.topic);
  }
}
