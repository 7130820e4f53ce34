import type { Consumption } from '../bench-system.js';
import { Countdown } from './countdown.js';
import { throughput } from './measurement.js';
import { PAYLOAD } from './payload.js';
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
  title: (s) => `W4 many topics: ${fmtCount(TOPICS)} topics with 1 consumed subscription each, `
    + `${fmtCount(scaled(MESSAGES, s))} × ${PAYLOAD_BYTES} B round-robin`,
  async run(system, s) {
    const count = scaled(MESSAGES, s);
    const arrivals = new Countdown(count, 'messages delivered');
    const perTopic = new Array<number>(TOPICS).fill(0);
    const expected = (t: number): number => Math.floor(count / TOPICS) + (t < count % TOPICS ? 1 : 0);
    const consumer = await system.connect('w4-sub');
    const consumptions: Consumption[] = [];
    for (let t = 0; t < TOPICS; t++) {
      consumptions.push(await consumer.consume(topicName(t), 'w4', (d) => {
        d.ack();
        if (perTopic[t]! < expected(t)) {
          perTopic[t]!++;
          arrivals.tick();
        }
      }));
    }
    const publisher = await system.connect('w4-pub');
    const start = performance.now();
    await publishMany(publisher, count, topicName, () => PAYLOAD);
    await arrivals.done;
    const seconds = (performance.now() - start) / 1000;
    await Promise.all([publisher.close(), consumer.close()]);
    return throughput(count, seconds);
  },
};
