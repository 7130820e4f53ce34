import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { CorralError } from '../../protocol/corral-error.js';
import type { HubContext, HubService, OwnedResource, ServiceRequest } from '../../hub/hub-service.js';
import type { MetadataStore } from '../../store/metadata-store.js';
import { preciseNow } from '../clock/clock-service.js';
import { StoreClock } from '../clock/store-clock.js';
import { DataSetResource, type DataSetEnv } from './data-set-resource.js';
import { wireTable } from './sync-cycle.js';
import {
  decodeEdit, decodeFetch, decodeRead, decodeReport, decodeSchedule, decodeVersionArg, decodeWatch,
  encodePage, encodeResult, encodeTable, encodeValue, SyncFrame, type Report,
} from './sync-frames.js';

export interface SyncServiceOptions {
  /** How often activation reports are written to the store (default 1 s). */
  flushMs?: number;
}

/**
 * Synchronized data sets [P-13] (seed 001): each `sync|<name>` resource is a
 * data set whose owner keeps its production copy, its immutable staged and
 * active versions and its synchronization table, rolls the cycle at each
 * activation instant, serves change-only retrieval, pushes the table to the
 * servers watching it and aggregates their activation reports.
 */
export class SyncService implements HubService {
  readonly name = 'sync';
  readonly kinds = ['sync'];
  private readonly sets = new Map<string, DataSetResource>();
  private metadata: MetadataStore | undefined;
  private storeClock: StoreClock | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private env: DataSetEnv | undefined;

  constructor(private readonly opts: SyncServiceOptions = {}) {}

  readonly routes = {
    status: async (): Promise<unknown> => ({ dataSets: await Promise.all([...this.sets.values()].map((s) => s.status().catch(() => ({ dataSet: s.name })))) }),
  };

  async start(ctx: HubContext): Promise<void> {
    this.metadata = ctx.stores.metadata;
    this.storeClock = new StoreClock(ctx.stores.metadata, preciseNow, { refreshMs: 1000, rounds: 4 });
    await this.storeClock.start();
    this.env = this.makeEnv(ctx.logger, ctx);
    this.flushTimer = setInterval(() => { void this.flushAll(); }, this.opts.flushMs ?? 1000);
    this.flushTimer.unref();
  }

  private makeEnv(logger: Logger, ctx: HubContext): DataSetEnv {
    const clock = this.storeClock!;
    const rolls = new Counter({ name: 'corral_sync_rolls_total', help: 'Data-set cycles rolled by this hub', labelNames: ['data_set'], registers: [ctx.metrics] });
    const activations = new Counter({ name: 'corral_sync_activations_total', help: 'Version activations servers reported', labelNames: ['data_set'], registers: [ctx.metrics] });
    const late = new Counter({ name: 'corral_sync_late_activations_total', help: 'Activations servers reported as late (staging incomplete at the instant)', labelNames: ['data_set'], registers: [ctx.metrics] });
    const spread = new Gauge({ name: 'corral_sync_activation_spread_ms', help: 'Farm-time spread between the first and last reported activation of the latest version', labelNames: ['data_set'], registers: [ctx.metrics] });
    return {
      farmNow: async () => (await clock.read()).time,
      logger,
      rolledCycle: (name) => rolls.inc({ data_set: name }),
      reported: (name: string, r: Report, spreadMs: number) => {
        activations.inc({ data_set: name });
        if (r.late) late.inc({ data_set: name });
        spread.set({ data_set: name }, spreadMs);
      },
    };
  }

  async gained(owned: OwnedResource): Promise<void> {
    this.sets.set(owned.resource, await DataSetResource.gain(owned, this.metadata!, this.env!));
  }

  async handingOff(owned: OwnedResource): Promise<void> {
    await this.mine(owned)?.handOff();
  }

  lost(owned: OwnedResource): void {
    const ds = this.mine(owned);
    if (!ds) return;
    ds.close();
    this.sets.delete(owned.resource);
  }

  private mine(owned: OwnedResource): DataSetResource | undefined {
    const ds = this.sets.get(owned.resource);
    return ds?.epoch === owned.epoch ? ds : undefined;
  }

  async handle(req: ServiceRequest): Promise<void> {
    const { message, owned } = req;
    const ds = this.mine(owned);
    if (!ds) throw new CorralError('NOT_OWNER', `data set ${owned.resource} left this hub; retry`);
    const p = message.payload;
    switch (message.type) {
      case SyncFrame.WATCH:
        req.reply(SyncFrame.TABLE, encodeTable(wireTable(await ds.watch(req.from, decodeWatch(p)))));
        return;
      case SyncFrame.FETCH:
        req.reply(SyncFrame.PAGE, encodePage(await ds.fetch(decodeFetch(p))));
        return;
      case SyncFrame.EDIT:
        req.reply(SyncFrame.RESULT, encodeResult(await ds.edit(req.from, decodeEdit(p))));
        return;
      case SyncFrame.SCHEDULE: {
        const s = decodeSchedule(p);
        req.reply(SyncFrame.RESULT, encodeResult(await ds.schedule(s.at, s.intervalMs)));
        return;
      }
      case SyncFrame.ROLLBACK:
        req.reply(SyncFrame.RESULT, encodeResult(await ds.rollback(decodeVersionArg(p))));
        return;
      case SyncFrame.REPORT:
        ds.report(decodeReport(p));
        req.reply(SyncFrame.RESULT, encodeResult({}));
        return;
      case SyncFrame.STATUS:
        req.reply(SyncFrame.RESULT, encodeResult(await ds.status()));
        return;
      case SyncFrame.READ: {
        const r = decodeRead(p);
        const v = await ds.read(r.which, r.key);
        req.reply(SyncFrame.VALUE, encodeValue(v.found, v.version, v.value));
        return;
      }
      default:
        throw new CorralError('UNKNOWN_FRAME_TYPE', `the sync service has no request frame 0x${message.type.toString(16)}`);
    }
  }

  /** A data set weighs as much as a topic; its work is bursts at the activation instants. */
  load(): number {
    return 1;
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    // Reports not yet written are written before the sets close.
    await this.flushAll();
    for (const ds of this.sets.values()) ds.close();
    this.sets.clear();
    this.storeClock?.stop();
  }

  private async flushAll(): Promise<void> {
    await Promise.all([...this.sets.values()].map((s) => s.flushStats().catch(() => undefined)));
  }
}
