import type { Client } from '../../client/client.js';
import { CorralError } from '../../protocol/corral-error.js';
import type { ServiceChannel } from '../../client/service-channel.js';
import { ClockFrame, decodeTimeReply, encodeTimeRequest, FARM_CLOCK } from './clock-frames.js';
import { OffsetEstimator } from './offset-estimator.js';

export interface FarmClockOptions {
  /** This process's clock, ms since the epoch (default: the high-resolution wall clock). */
  clock?: () => number;
  /** Round trips per measurement (default 8). */
  rounds?: number;
  /** Re-measure this often (default 60 s); also after every reconnect. */
  refreshMs?: number;
  /** Assumed worst relative drift of this clock and the farm's (default 100 ppm). */
  driftPpm?: number;
  resource?: string;
}

export interface FarmTime {
  /** Farm time now, ms since the epoch. */
  now: number;
  /** Farm time − local time, ms. */
  offset: number;
  /** Farm time is within ±errorBound of `now`, ms. */
  errorBound: number;
}

/**
 * The farm clock's client part [P-12]: estimates the offset between this
 * process's clock and the farm's (the store's clock, through any hub) from
 * several round trips, keeping the lowest-delay ones, and re-measures
 * periodically and after a reconnect. Every member of a farm reads the same
 * "now" from it, within the error bound.
 */
export class FarmClock {
  private readonly channel: ServiceChannel;
  private readonly estimator: OffsetEstimator;
  private readonly local: () => number;
  private timer: NodeJS.Timeout | undefined;
  private measuring: Promise<void> | undefined;
  // Earlier bounds stay valid (they age by the drift); fresh ones replace them as they are narrower.
  private readonly onReconnect = (): void => {
    this.measure().catch(() => undefined);
  };

  private constructor(private readonly client: Client, private readonly opts: FarmClockOptions) {
    this.channel = client.service('clock');
    this.estimator = new OffsetEstimator(opts.driftPpm ?? 100, opts.rounds ?? 8);
    this.local = opts.clock ?? ((): number => performance.timeOrigin + performance.now());
  }

  /** Measures once, then keeps the estimate fresh until `close`. */
  static async start(client: Client, opts: FarmClockOptions = {}): Promise<FarmClock> {
    const fc = new FarmClock(client, opts);
    await fc.measure();
    fc.timer = setInterval(() => { fc.measure().catch(() => undefined); }, opts.refreshMs ?? 60_000);
    fc.timer.unref();
    client.on('reconnect', fc.onReconnect);
    return fc;
  }

  /** One measurement: `rounds` round trips in a row, each bounding the offset. */
  measure(): Promise<void> {
    this.measuring ??= (async () => {
      for (let i = 0; i < (this.opts.rounds ?? 8); i++) await this.roundTrip();
    })().finally(() => { this.measuring = undefined; });
    return this.measuring;
  }

  /** One round trip; the offset is within [farm − bound − T4, farm + bound − T1]. */
  async roundTrip(): Promise<void> {
    const t1 = this.local();
    const reply = await this.channel.request(ClockFrame.TIME_REQUEST, this.opts.resource ?? FARM_CLOCK, encodeTimeRequest(t1));
    const t4 = this.local();
    const r = decodeTimeReply(reply.payload);
    this.estimator.add(r.farmTime - r.errorBound - t4, r.farmTime + r.errorBound - t1, t4);
  }

  /** Farm time now, with the offset and error bound it was derived from. */
  read(): FarmTime {
    const local = this.local();
    const e = this.estimator.estimate(local);
    // start() measured before returning; the estimator never drops to no sample.
    if (e === undefined) throw new CorralError('INTERNAL', 'the farm clock has no measurement');
    return { now: local + e.offset, offset: e.offset, errorBound: e.errorBound };
  }

  now(): number {
    return this.read().now;
  }

  close(): void {
    clearInterval(this.timer);
    this.client.off('reconnect', this.onReconnect);
  }
}
