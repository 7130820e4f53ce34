import type { BenchClient } from './bench-system.js';
import { numberedPayload } from './workloads/numbered-payload.js';

/**
 * Publishes messages 0, 1, 2, … to one topic at a fixed rate, with at most
 * `window` awaiting acknowledgement; when the window is full (a hub is
 * gone), sending pauses and catches up once acknowledgements return. Each
 * payload carries its number (`messageNumber`).
 */
export class PacedPublisher {
  /** Messages handed to the client so far; the next one gets this number. */
  sent = 0;
  acked = 0;
  readonly failures: unknown[] = [];
  private inFlight = 0;
  private readonly start = performance.now();
  private readonly timer: NodeJS.Timeout;
  private drainWaiter: (() => void) | undefined;

  constructor(
    private readonly client: BenchClient,
    private readonly topic: string,
    private readonly perSecond: number,
    private readonly window: number,
    private readonly onAck: (n: number) => void,
  ) {
    // A 1 ms timer on the event loop: pacing must not spin a core the hubs need.
    this.timer = setInterval(() => this.tick(), 1);
  }

  /** Stops sending new messages; resolves once every message sent is acknowledged or failed. */
  stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => { this.drainWaiter = resolve; });
  }

  private tick(): void {
    const due = Math.floor(((performance.now() - this.start) * this.perSecond) / 1000);
    while (this.sent < due && this.inFlight < this.window) this.send(this.sent++);
  }

  private send(n: number): void {
    const payload = numberedPayload(n);
    this.inFlight++;
    this.client.publish(this.topic, payload).then(() => {
      this.acked++;
      this.onAck(n);
    }, (err: unknown) => {
      this.failures.push(err);
    }).finally(() => {
      if (--this.inFlight === 0) this.drainWaiter?.();
    });
  }
}
