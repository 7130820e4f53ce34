import { m1HubMemory } from './m1-hub-memory.js';
import { w1PublishThroughput } from './w1-publish-throughput.js';
import { w2Latency } from './w2-latency.js';
import { w3FanOut } from './w3-fan-out.js';
import { w4ManyTopics } from './w4-many-topics.js';
import { w5CatchUp } from './w5-catch-up.js';
import type { Workload } from './workload.js';

/** Every workload, in the order they run and print. */
export const ALL_WORKLOADS: readonly Workload[] = [w1PublishThroughput, w2Latency, w3FanOut, w4ManyTopics, w5CatchUp, m1HubMemory];
