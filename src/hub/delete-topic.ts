import type { MessageLog } from '../store/message-log.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { SubscriptionManager } from './subscription-manager.js';
import type { Topic } from './topic.js';
import { topicConfigKey } from './topic-registry.js';

/** Records removed per store call, so deleting a long topic never blocks the hub for long (as the GC's chunks). */
const TRIM_CHUNK = 50_000;

/**
 * [P-6.5] Deletes what a topic holds: its subscriptions (attached ones end
 * with SUBSCRIPTION_DELETED), its retention setting and its stored messages.
 * Its sequence numbers continue: a message published afterwards gets the
 * next one, so nobody mistakes it for a deleted one.
 */
export async function deleteTopic(t: Topic, subs: SubscriptionManager, metadata: MetadataStore, log: MessageLog): Promise<void> {
  for (const name of [...t.subscriptions.keys()]) await subs.remove(t, name);
  await metadata.delete(topicConfigKey(t.name));
  t.retention = undefined;
  const through = t.committedSeq;
  while (t.firstSeq <= through && !t.closed) {
    const upTo = Math.min(through, t.firstSeq + TRIM_CHUNK - 1);
    await log.trim(t.name, upTo);
    t.firstSeq = Math.max(t.firstSeq, upTo + 1);
    t.tail.trimThrough(upTo);
  }
}
