import { randomBytes } from 'node:crypto';
import { isCorralError } from '../../src/protocol/corral-error.js';
import { encodeAcquire, GateFrame } from '../../src/services/gates/gate-frames.js';
import { gateHeadKey } from '../../src/services/gates/gate-store.js';
import { Gate } from '../../src/services/gates/gate.js';
import { serviceClusterSuite, serviceStandaloneSuite, type ServiceUnderTest } from '../support/service-test-kit.js';

/** The kit's counted request: an ACQUIRE, counted by the tickets the gate issued (its stored head's `next` − 1). */
const gatesUnderTest: ServiceUnderTest = {
  name: 'gates',
  kind: 'gate',
  async request(client, resource) {
    const channel = client.service('gates');
    try {
      await channel.request(GateFrame.ACQUIRE, resource, encodeAcquire(0, randomBytes(9).toString('base64url')));
    } catch (err) {
      if (!isCorralError(err, 'UNKNOWN_GATE')) throw err;
      await Gate.open(client, resource.slice('gate|'.length)).create({ limit: 1_000_000 }).catch((e: unknown) => {
        if (!isCorralError(e, 'GATE_EXISTS')) throw e;
      });
      await channel.request(GateFrame.ACQUIRE, resource, encodeAcquire(0, randomBytes(9).toString('base64url')));
    }
  },
  storedCount: (data) => (data === null ? 0 : (JSON.parse(data) as { next: number }).next - 1),
  // The gate's counters are its head, beside its seats (src/services/gates/gate-store.ts).
  storedData: async (metadata, resource) => (await metadata.get(gateHeadKey(resource)))?.value ?? null,
};

serviceStandaloneSuite(gatesUnderTest);
serviceClusterSuite(gatesUnderTest);

