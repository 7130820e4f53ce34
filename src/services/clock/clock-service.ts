import { Counter, Gauge } from 'prom-client';
import { CorralError } from '../../protocol/corral-error.js';
import type { HubContext, HubService, OwnedResource, ServiceRequest } from '../../hub/hub-service.js';
import { ClockFrame, decodeTimeRequest, encodeTimeReply } from './clock-frames.js';
import { StoreClock } from './store-clock.js';

export interface ClockServiceOptions {
  /** The hub's local clock, ms with sub-ms precision (tests skew it). */
  local?: () => number;
  /** How often the hub re-measures the store's clock (default 1 s). */
  refreshMs?: number;
  /** How often request counts are written to the store (default 1 s). */
  flushMs?: number;
}

/** What the clock stores per resource, fenced by its epoch: how many requests it answered. */
interface ClockState {
  served: number;
}

interface Counting {
  owned: OwnedResource;
  served: number;
  flushed: number;
  open: boolean;
}

export const preciseNow = (): number => performance.timeOrigin + performance.now();

/**
 * The farm clock [P-12]: answers TIME_REQUEST with the hub's estimate of the
 * store's clock (the same for every hub of a cluster) and an error bound
 * that includes the hub's own. Its resources (`clock|<name>`) all tell the
 * same time; each counts the requests it answered in its fenced state, which
 * shows a resource's history moving intact across handoffs and failovers.
 */
export class ClockService implements HubService {
  readonly name = 'clock';
  readonly kinds = ['clock'];
  private storeClock: StoreClock | undefined;
  private readonly counting = new Map<string, Counting>();
  private flushTimer: NodeJS.Timeout | undefined;
  private hubId = '';
  private requests: Counter | undefined;
  private readonly local: () => number;

  constructor(private readonly opts: ClockServiceOptions = {}) {
    this.local = opts.local ?? preciseNow;
  }

  readonly queries = { clock: (): Promise<unknown> => this.status() };
  readonly routes = { status: (): Promise<unknown> => this.status() };

  async start(ctx: HubContext): Promise<void> {
    this.hubId = ctx.hubId;
    this.storeClock = new StoreClock(ctx.stores.metadata, this.local, { refreshMs: this.opts.refreshMs ?? 1000, rounds: 4 });
    await this.storeClock.start();
    this.requests = new Counter({ name: 'corral_clock_requests_total', help: 'Farm clock TIME_REQUESTs answered', registers: [ctx.metrics] });
    const clock = this.storeClock;
    new Gauge({
      name: 'corral_clock_error_bound_ms', help: 'Error bound of this hub\'s estimate of the store clock', registers: [ctx.metrics],
      async collect() { this.set((await clock.read()).errorBound); },
    });
    this.flushTimer = setInterval(() => { void this.flushAll(); }, this.opts.flushMs ?? 1000);
    this.flushTimer.unref();
  }

  gained(owned: OwnedResource): Promise<void> {
    const stored = owned.state.value === undefined ? { served: 0 } : (JSON.parse(owned.state.value) as ClockState);
    this.counting.set(owned.resource, { owned, served: stored.served, flushed: stored.served, open: true });
    return Promise.resolve();
  }

  async handingOff(owned: OwnedResource): Promise<void> {
    const c = this.counting.get(owned.resource);
    if (c) await this.flush(c);
  }

  lost(owned: OwnedResource): void {
    const c = this.counting.get(owned.resource);
    if (c?.owned !== owned) return;
    c.open = false;
    this.counting.delete(owned.resource);
  }

  async handle(req: ServiceRequest): Promise<void> {
    const { message, owned } = req;
    if (message.type !== ClockFrame.TIME_REQUEST) {
      throw new CorralError('UNKNOWN_FRAME_TYPE', `the clock service has no request frame 0x${message.type.toString(16)}`);
    }
    const clientTime = decodeTimeRequest(message.payload);
    const c = this.counting.get(owned.resource);
    if (c?.owned !== owned) throw new CorralError('NOT_OWNER', `resource ${owned.resource} left this hub; retry`);
    const now = await this.storeClock!.read();
    c.served++;
    this.requests?.inc();
    req.reply(ClockFrame.TIME_REPLY, encodeTimeReply({ clientTime, farmTime: now.time, errorBound: now.errorBound }));
  }

  load(): number {
    return 1;
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    this.storeClock?.stop();
    await this.flushAll();
  }

  private async flushAll(): Promise<void> {
    await Promise.all([...this.counting.values()].map((c) => this.flush(c).catch(() => undefined)));
  }

  /** Writes the count; a stale owner's write is refused (FENCED) and the host drops the resource. */
  private async flush(c: Counting): Promise<void> {
    const served = c.served;
    if (!c.open || served === c.flushed) return;
    await c.owned.state.write(JSON.stringify({ served } satisfies ClockState));
    c.flushed = Math.max(c.flushed, served);
  }

  private async status(): Promise<unknown> {
    const now = await this.storeClock!.read();
    return {
      hubId: this.hubId, farmTime: now.time, errorBound: now.errorBound, localOffset: now.time - this.local(),
      resources: [...this.counting.values()].map((c) => ({ resource: c.owned.resource, epoch: c.owned.epoch, served: c.served, flushed: c.flushed })),
    };
  }
}
