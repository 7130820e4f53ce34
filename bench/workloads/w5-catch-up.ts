import { Arrivals } from './arrivals.js';
import { throughput } from './measurement.js';
import { numberedPayload } from './numbered-payload.js';
import { PAYLOAD_BYTES } from './limits.js';
import { publishMany } from './publish-many.js';
import { fmtCount, scaled, type Workload } from './workload.js';

const MESSAGES = 200_000;

/**
 * W5: catch-up. A subscription is created and its client disconnects; the
 * backlog is published; then the client reconnects and drains it with acks.
 * Timed from the reconnect to the last message.
 */
export const w5CatchUp: Workload = {
  id: 'W5',
  metric: 'throughput',
  unit: 'msgs/s',
  title: (s) => `W5 catch-up: drain of a ${fmtCount(scaled(MESSAGES, s))} × ${PAYLOAD_BYTES} B backlog after reconnecting, with acks`,
  async run(system, s) {
    const count = scaled(MESSAGES, s);
    const away = await system.connect('w5-sub');
    await away.createSubscription('w5', 'catch-up');
    await away.close();
    const publisher = await system.connect('w5-pub');
    await publishMany(publisher, count, () => 'w5', numberedPayload);
    await publisher.close();
    const arrivals = new Arrivals(count, 'backlog messages');
    const start = performance.now();
    const back = await system.connect('w5-sub');
    await back.consume('w5', 'catch-up', (d) => {
      d.ack();
      arrivals.record('catch-up', d.payload);
    });
    await arrivals.done;
    const seconds = (performance.now() - start) / 1000;
    arrivals.check(() => count);
    await back.close();
    return throughput(count, seconds);
  },
};
