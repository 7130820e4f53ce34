import { throughput } from './measurement.js';
import { PAYLOAD } from './payload.js';
import { PAYLOAD_BYTES, PUBLISH_WINDOW } from './limits.js';
import { publishMany } from './publish-many.js';
import { fmtCount, scaled, type Workload } from './workload.js';

const MESSAGES = 200_000;

/**
 * W1: durable publish throughput. The subscription exists but never
 * consumes, so every message has to be stored; timed from the first send to
 * the last acknowledgement.
 */
export const w1PublishThroughput: Workload = {
  id: 'W1',
  metric: 'throughput',
  unit: 'msgs/s',
  floor: 'append-loop',
  title: (s) => `W1 durable publish throughput: 1 publisher, ${fmtCount(scaled(MESSAGES, s))} × ${PAYLOAD_BYTES} B, `
    + `${fmtCount(PUBLISH_WINDOW)} in flight, 1 topic with 1 idle subscription`,
  async run(system, s) {
    const count = scaled(MESSAGES, s);
    const idle = await system.connect('w1-idle');
    await idle.createSubscription('w1', 'idle');
    await idle.close();
    const publisher = await system.connect('w1-pub');
    const start = performance.now();
    await publishMany(publisher, count, () => 'w1', () => PAYLOAD);
    const seconds = (performance.now() - start) / 1000;
    await publisher.close();
    return throughput(count, seconds);
  },
};
