import type { SystemVariant } from '../bench-system.js';
import type { PeerName } from '../bench-options.js';
import { findExecutable } from '../server-process.js';
import { mosquittoVariant } from './mosquitto-system.js';
import { natsVariant } from './nats-system.js';
import { redisVariant } from './redis-system.js';

const PEERS: Record<PeerName, { binary: string; variant: (binary: string) => SystemVariant }> = {
  nats: { binary: 'nats-server', variant: natsVariant },
  redis: { binary: 'redis-server', variant: redisVariant },
  mosquitto: { binary: 'mosquitto', variant: mosquittoVariant },
};

/** The requested peers whose server is installed, and the names of those that are not. */
export function peerVariants(names: readonly PeerName[]): { variants: SystemVariant[]; missing: string[] } {
  const variants: SystemVariant[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const peer = PEERS[name];
    const binary = findExecutable(peer.binary);
    if (binary) variants.push(peer.variant(binary));
    else missing.push(`${name} (${peer.binary} not found)`);
  }
  return { variants, missing };
}
