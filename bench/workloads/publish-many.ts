import type { BenchClient } from '../bench-system.js';
import { PUBLISH_WINDOW } from './limits.js';

/**
 * Publishes message 0…count-1 in order with at most PUBLISH_WINDOW awaiting
 * their acknowledgement; resolves when the last one is acknowledged.
 */
export async function publishMany(
  client: BenchClient, count: number, topicOf: (i: number) => string, payloadOf: (i: number) => Uint8Array,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        await client.publish(topicOf(i), payloadOf(i));
      } catch (err) {
        next = count; // stop the other lanes too
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUBLISH_WINDOW, count) }, lane));
}
