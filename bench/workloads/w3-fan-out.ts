import type { BenchClient } from '../bench-system.js';
import { Arrivals } from './arrivals.js';
import { throughput } from './measurement.js';
import { numberedPayload } from './numbered-payload.js';
import { PAYLOAD_BYTES } from './limits.js';
import { publishMany } from './publish-many.js';
import { fmtCount, scaled, type Workload } from './workload.js';

const MESSAGES = 50_000;
const SUBSCRIPTIONS = 10;

/**
 * W3: fan-out. Ten subscriptions on one topic, each consumed (and acked) by
 * its own client; timed from the first send until every subscription has
 * received every message.
 */
export const w3FanOut: Workload = {
  id: 'W3',
  metric: 'throughput',
  unit: 'deliveries/s',
  title: (s) => `W3 fan-out: 1 topic, ${SUBSCRIPTIONS} subscriptions each with its own consumer, `
    + `${fmtCount(scaled(MESSAGES, s))} × ${PAYLOAD_BYTES} B published`,
  async run(system, s) {
    const count = scaled(MESSAGES, s);
    const arrivals = new Arrivals(count * SUBSCRIPTIONS, 'deliveries');
    const consumers: BenchClient[] = [];
    for (let k = 0; k < SUBSCRIPTIONS; k++) {
      const consumer = await system.connect(`w3-sub-${k}`);
      await consumer.consume('w3', `fan-${k}`, (d) => {
        d.ack();
        arrivals.record(`fan-${k}`, d.payload);
      });
      consumers.push(consumer);
    }
    const publisher = await system.connect('w3-pub');
    const start = performance.now();
    await publishMany(publisher, count, () => 'w3', numberedPayload);
    await arrivals.done;
    const seconds = (performance.now() - start) / 1000;
    arrivals.check(() => count);
    await Promise.all([publisher, ...consumers].map((c) => c.close()));
    return throughput(count * SUBSCRIPTIONS, seconds);
  },
};
