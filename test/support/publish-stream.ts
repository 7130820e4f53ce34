import type { Client } from '../../src/client/index.js';
import { CorralError } from '../../src/protocol/corral-error.js';

/** What a bounded publish stream saw: every outcome, by payload. */
export interface PublishStream {
  /** seq → payload of every acknowledged publish. */
  readonly acked: Map<number, string>;
  /** Failed publishes by error code. */
  readonly failures: CorralError[];
  /** Publishes made so far. */
  readonly made: number;
  /** Date.now() of each acknowledgement, in arrival order. */
  readonly ackTimes: number[];
  /** Resolves when every publish of the stream has settled. */
  readonly done: Promise<void>;
}

/**
 * Publishes `total` messages m1…mN to `topic` keeping `window` in flight, as
 * an application streaming through the client library would, and records
 * each outcome.
 */
export function publishStream(client: Client, topic: string, total: number, window = 100): PublishStream {
  const acked = new Map<number, string>();
  const failures: CorralError[] = [];
  const ackTimes: number[] = [];
  let made = 0;
  const inFlight = new Set<Promise<void>>();
  const done = (async () => {
    while (made < total || inFlight.size > 0) {
      while (inFlight.size < window && made < total) {
        const payload = `m${++made}`;
        const p: Promise<void> = client.publish(topic, payload).then((r) => {
          // Every original is kept while it is retried here: a seq not known is a defect.
          if (r.seq === undefined) {
            failures.push(new CorralError('INTERNAL', `publish of ${payload} answered as a duplicate of an original the hub no longer knows`));
            return;
          }
          acked.set(r.seq, payload);
          ackTimes.push(Date.now());
        }, (err: CorralError) => { failures.push(err); }).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.race(inFlight);
    }
  })();
  return { acked, failures, ackTimes, done, get made() { return made; } };
}
