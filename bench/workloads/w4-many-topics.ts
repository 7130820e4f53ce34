import type { Consumption } from '../bench-system.js';
import { Arrivals } from './arrivals.js';
import { throughput } from './measurement.js';
import { numberedPayload } from './numbered-payload.js';
import { PAYLOAD_BYTES } from './limits.js';
import { publishMany } from './publish-many.js';
import { fmtCount, scaled, type Workload } from './workload.js';

const TOPICS = 1000;
const MESSAGES = 100_000;

const topicName = (i: number): string => `w4-${i % TOPICS}`;

/**
 * W4: many topics. One subscription per topic, all consumed by one client;
 * messages published round-robin over the topics; timed from the first send
 * until all are delivered.
 */
export const w4ManyTopics: Workload = {
  id: 'W4',
  metric: 'throughput',
  unit: 'msgs/s',
  floor: 'append-loop',
  title: (s) => `W4 many topics: ${fmtCount(TOPICS)} topics with 1 consumed subscription each, `
    + `${fmtCount(scaled(MESSAGES, s))} × ${PAYLOAD_BYTES} B round-robin`,
  async run(system, s) {
    const count = scaled(MESSAGES, s);
    const arrivals = new Arrivals(count, 'messages delivered');
    const expected = (t: number): number => Math.floor(count / TOPICS) + (t < count % TOPICS ? 1 : 0);
    const consumer = await system.connect('w4-sub');
    const consumptions: Consumption[] = [];
    for (let t = 0; t < TOPICS; t++) {
      consumptions.push(await consumer.consume(topicName(t), 'w4', (d) => {
        d.ack();
        arrivals.record(topicName(t), d.payload);
      }));
    }
    const publisher = await system.connect('w4-pub');
    const start = performance.now();
    // Each topic's messages are numbered from 0 in publish order.
    await publishMany(publisher, count, topicName, (i) => numberedPayload(Math.floor(i / TOPICS)));
    await arrivals.done;
    const seconds = (performance.now() - start) / 1000;
    arrivals.check((topic) => expected(Number(topic.slice('w4-'.length))));
    await Promise.all([publisher.close(), consumer.close()]);
    return throughput(count, seconds);
  },
};
