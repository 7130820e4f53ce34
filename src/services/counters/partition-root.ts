import type { OwnedResource } from '../../hub/hub-service.js';
import { CounterParent, type ExchangeCounts } from './counter-parent.js';
import { checkCounterName, wrapU64 } from './counters-frames.js';

/**
 * The root of one partition's counter tree [P-14]: the hub that owns
 * `counters|<partition>`. Its members are client processes and branches;
 * beyond what every parent does, it answers SET for the whole partition.
 */
export class PartitionRoot extends CounterParent {
  constructor(owned: OwnedResource, hubId: string, counts: ExchangeCounts) {
    super(owned, hubId, counts);
  }

  /** [P-14.6] Sets the global value: the root's own contribution absorbs the difference, so every member's total stays its own. */
  async set(name: string, value: bigint): Promise<{ token: number; previous: bigint }> {
    checkCounterName(name, 'variable name');
    const token = this.variable(name);
    const r = this.node.record(name);
    const previous = r.global();
    this.node.setLocal(name, wrapU64(r.local + value - previous));
    await this.persist();
    this.pushAll(undefined);
    return { token, previous };
  }
}
