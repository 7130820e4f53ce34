import { setTimeout as sleep } from 'node:timers/promises';
import hdr from 'hdr-histogram-js';
import { Countdown } from './countdown.js';
import { PAYLOAD } from './payload.js';
import { PAYLOAD_BYTES } from './limits.js';
import { fmtCount, scaled, type Workload } from './workload.js';

const RATE = 2000;
const MEASURED_S = 10;
/** Sent at the same rate first and not recorded: connection set-up and JIT warm-up are not steady state. */
const WARMUP_S = 1;
/** Histogram range in microseconds: 1 µs to 60 s. */
const HIGHEST_US = 60_000_000;

/**
 * Calls `send(i)` for i = 0…count-1 at `rate` per second, on the event loop
 * (a 1 ms timer, sending whatever is due), so the pacing does not spin a core
 * the hub needs.
 */
async function paced(rate: number, count: number, send: (i: number) => void): Promise<void> {
  const start = performance.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (sent < due) send(sent++);
    await sleep(1);
  }
}

/**
 * W2: end-to-end latency. Each payload carries its send time
 * (process.hrtime, nanoseconds); the subscriber in the same process records
 * receive time minus send time.
 */
export const w2Latency: Workload = {
  id: 'W2',
  metric: 'latency',
  floor: 'round-trip',
  title: (s) => `W2 end-to-end latency: 1 publisher + 1 subscriber, ${fmtCount(RATE)} msgs/s × ${MEASURED_S} s `
    + `(${fmtCount(scaled(RATE * MEASURED_S, s))} measured after ${WARMUP_S} s warm-up), ${PAYLOAD_BYTES} B`,
  async run(system, s) {
    const warmup = RATE * WARMUP_S;
    const measured = scaled(RATE * MEASURED_S, s);
    const total = warmup + measured;
    const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, useWebAssembly: false });
    const arrivals = new Countdown(total, 'messages received');
    let received = 0;
    const subscriber = await system.connect('w2-sub');
    await subscriber.consume('w2', 'latency', (d) => {
      const now = process.hrtime.bigint();
      const sent = Buffer.from(d.payload.buffer, d.payload.byteOffset, d.payload.byteLength).readBigUInt64BE(0);
      // Delivery is in order, so the first `warmup` arrivals are the warm-up messages.
      if (received++ >= warmup) histogram.recordValue(Math.max(1, Number((now - sent) / 1000n)));
      d.ack();
      arrivals.tick();
    });
    const publisher = await system.connect('w2-pub');
    let failure: unknown;
    await paced(RATE, total, () => {
      const payload = Buffer.from(PAYLOAD);
      payload.writeBigUInt64BE(process.hrtime.bigint(), 0);
      publisher.publish('w2', payload).catch((err: unknown) => { failure ??= err; });
    });
    await arrivals.done;
    if (failure) throw failure;
    await Promise.all([publisher.close(), subscriber.close()]);
    // A percentile is reported as the top of its histogram bucket, which can lie above the largest value seen.
    const ms = (p: number): number => Math.min(histogram.getValueAtPercentile(p), histogram.maxValue) / 1000;
    return { kind: 'latency', count: measured, p50: ms(50), p99: ms(99), p999: ms(99.9), max: histogram.maxValue / 1000 };
  },
};
