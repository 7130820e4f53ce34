import { randomBytes } from 'node:crypto';
import { CorralError } from '../../protocol/corral-error.js';
import { metaKey, type MetadataStore } from '../../store/metadata-store.js';

export const GATE_KEY_KEY = metaKey('gates', 'ticket-key');

/**
 * The key gate tickets are signed with, the same on every hub of a farm
 * (docs/decisions/gate-ticket-key.md): the configured one (CORRAL_GATE_KEY,
 * at least 32 characters), or else one made at random by the first hub and
 * kept in the metadata store, where every hub of the cluster reads it.
 */
export async function gateTicketKey(metadata: MetadataStore, configured: string | undefined): Promise<Buffer> {
  if (configured !== undefined) {
    if (configured.length < 32) throw new CorralError('INVALID_ARGUMENT', 'CORRAL_GATE_KEY must be at least 32 characters');
    return Buffer.from(configured);
  }
  for (;;) {
    const cur = await metadata.get(GATE_KEY_KEY);
    if (cur) return Buffer.from(cur.value, 'base64url');
    // Hubs racing here agree through compare-and-set: one key wins, the others read it.
    await metadata.put(GATE_KEY_KEY, randomBytes(32).toString('base64url'), { expectedVersion: 0 });
  }
}
