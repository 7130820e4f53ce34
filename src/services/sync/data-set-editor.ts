import type { Client } from '../../client/client.js';
import type { ServiceChannel } from '../../client/service-channel.js';
import { isCorralError } from '../../protocol/corral-error.js';
import {
  decodeResult, decodeValue, encodeEdit, encodeRead, encodeSchedule, encodeVersionArg, entrySize, MAX_PAGE_BYTES, SyncFrame,
  type Entry, type ReadWhich,
} from './sync-frames.js';

export interface EditResult {
  dataSet: string;
  productionRev: number;
  keys: number;
  changed: number;
}

export interface ScheduleResult {
  dataSet: string;
  rev: number;
  cycle: number;
  active: string;
  staged: string;
  activationAt: string | null;
  intervalMs: number;
  /** Set when the schedule leaves less time than the slowest server's last retrieval. */
  warning?: string;
  rolledBack?: string;
}

export type Value = Buffer | string;

const asBuffer = (v: Value): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/**
 * The management side of a data set [P-13] (seed 001's management tools
 * 110): edits go to production; `schedule` stages production and sets the
 * activation instant and interval; `rollback` withdraws a staged version.
 */
export class DataSetEditor {
  private readonly channel: ServiceChannel;
  readonly resource: string;

  constructor(client: Client, readonly name: string) {
    this.channel = client.service('sync');
    this.resource = `sync|${name}`;
  }

  set(key: string, value: Value): Promise<EditResult> {
    return this.edit([{ key, value: asBuffer(value) }], false);
  }

  setJson(key: string, value: unknown): Promise<EditResult> {
    return this.set(key, JSON.stringify(value));
  }

  delete(key: string): Promise<EditResult> {
    return this.edit([{ key, value: undefined }], false);
  }

  /** Many keys at once, applied to production together; `replace` drops every key not given. */
  import(entries: Iterable<[string, Value]>, opts: { replace?: boolean } = {}): Promise<EditResult> {
    return this.edit([...entries].map(([key, v]) => ({ key, value: asBuffer(v) })), opts.replace ?? false);
  }

  /**
   * Sends the edit in batches within the frame limit; the hub applies them
   * with the last. Interrupted by a move of the data set (its earlier
   * batches gone), it starts again once from the first batch.
   */
  private async edit(entries: readonly Entry[], replaceAll: boolean): Promise<EditResult> {
    const batches: Entry[][] = [[]];
    let bytes = 0;
    for (const e of entries) {
      const n = entrySize(e.key, e.value);
      if (batches.at(-1)!.length > 0 && bytes + n > MAX_PAGE_BYTES) {
        batches.push([]);
        bytes = 0;
      }
      batches.at(-1)!.push(e);
      bytes += n;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        let result: EditResult | undefined;
        for (const [i, batch] of batches.entries()) {
          const more = i < batches.length - 1;
          const reply = await this.channel.request(SyncFrame.EDIT, this.resource, encodeEdit({ replaceAll, more, continued: i > 0, entries: batch }));
          if (!more) result = decodeResult<EditResult>(reply.payload);
        }
        return result!;
      } catch (err) {
        if (attempt > 0 || batches.length === 1 || !isCorralError(err) || err.code !== 'INVALID_ARGUMENT') throw err;
      }
    }
  }

  /** Stages production to activate at `at` (farm ms; default: the instant already set), every `intervalMs` after (0 = once). */
  async schedule(opts: { at?: number; intervalMs?: number }): Promise<ScheduleResult> {
    const reply = await this.channel.request(SyncFrame.SCHEDULE, this.resource, encodeSchedule(opts.at ?? NaN, opts.intervalMs ?? NaN));
    return decodeResult<ScheduleResult>(reply.payload);
  }

  /** Withdraws the staged version (or checks it is `version`); production returns to the active version. */
  async rollback(version = ''): Promise<ScheduleResult> {
    const reply = await this.channel.request(SyncFrame.ROLLBACK, this.resource, encodeVersionArg(version));
    return decodeResult<ScheduleResult>(reply.payload);
  }

  async read(key: string, which: ReadWhich = 'active'): Promise<{ found: boolean; version: string; value: Buffer | undefined }> {
    const reply = await this.channel.request(SyncFrame.READ, this.resource, encodeRead(which, key));
    return decodeValue(reply.payload);
  }

  /** The table, versions with their activation reports (servers, late, spread), recent rolls. */
  async status(): Promise<DataSetStatus> {
    const reply = await this.channel.request(SyncFrame.STATUS, this.resource);
    return decodeResult<DataSetStatus>(reply.payload);
  }
}

export interface VersionStatus {
  version: string;
  state: 'active' | 'staged' | 'retained';
  keys: number;
  activated: number;
  late: number;
  spreadMs?: number;
  slowestRetrievalMs?: number;
}

export interface DataSetStatus extends ScheduleResult {
  activeSince: string | null;
  epoch: number;
  productionRev: number;
  productionKeys: number;
  watchers: number;
  versions: VersionStatus[];
  history: Array<{ cycle: number; version: string; at: string }>;
}
