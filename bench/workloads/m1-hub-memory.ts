import { setTimeout as sleep } from 'node:timers/promises';
import { PAYLOAD } from './payload.js';
import { PAYLOAD_BYTES } from './limits.js';
import { publishMany } from './publish-many.js';
import { fmtCount, scaled, type Workload, type WorkloadSettings } from './workload.js';

const TOPICS = 1000;
const PER_TOPIC = 1000;
const PER_TOPIC_FULL = 10_000;
/** Lets the hub finish its periodic work (cursor flush, a GC pass) before memory is read. */
const SETTLE_MS = 2_000;

const perTopic = (s: WorkloadSettings): number => scaled(s.full ? PER_TOPIC_FULL : PER_TOPIC, s);
const topicName = (i: number): string => `m1-${i % TOPICS}`;

/**
 * M1: hub memory with many slow subscribers. Every topic has one
 * subscription that never consumes, so every message stays unacknowledged;
 * the hub's resident set is read at the end.
 */
export const m1HubMemory: Workload = {
  id: 'M1',
  metric: 'memory',
  hubOnly: true,
  title: (s) => `M1 hub memory: ${fmtCount(TOPICS)} topics × ${fmtCount(perTopic(s))} unacknowledged ${PAYLOAD_BYTES} B messages, `
    + '1 idle subscription per topic',
  async run(system, s) {
    const count = TOPICS * perTopic(s);
    const slow = await system.connect('m1-slow');
    for (let t = 0; t < TOPICS; t++) await slow.createSubscription(topicName(t), 'slow');
    await slow.close();
    const publisher = await system.connect('m1-pub');
    await publishMany(publisher, count, topicName, () => PAYLOAD);
    await publisher.close();
    await sleep(SETTLE_MS);
    return { kind: 'memory', messages: count, ...(await system.serverMemory()) };
  },
};
