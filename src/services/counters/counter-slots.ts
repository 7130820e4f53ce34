import { CorralError } from '../../protocol/corral-error.js';
import { wrapU64 } from './counters-frames.js';

/** 64-byte cache lines hold eight 8-byte slots. */
const LINE_SLOTS = 8;

/** What a worker thread needs to attach to the same slots: post it with `postMessage`. */
export interface SharedSlots {
  buffer: SharedArrayBuffer;
  variables: readonly string[];
  threads: number;
  /** Slots from one (thread, variable) to the next: 8 = one 64-byte line each; 1 = packed (measured against). */
  stride: number;
}

/**
 * Per-thread memory for a member whose work runs on several `worker_threads`
 * (seed 000, claims 17–21): each thread increments its own slot of each
 * variable in a SharedArrayBuffer with `Atomics`, so threads never contend
 * for one memory word, and (padded) each slot sits on its own 64-byte cache
 * line, so they do not contend for a line either. The member's local value
 * of a variable is the sum of its slots (claim 21), read at each exchange.
 */
export class CounterSlots {
  private readonly cells: BigUint64Array;
  private readonly index = new Map<string, number>();

  private constructor(readonly shared: SharedSlots) {
    this.cells = new BigUint64Array(shared.buffer);
    shared.variables.forEach((v, i) => this.index.set(v, i));
  }

  /** Slots for `variables` × `threads`; `padded: false` packs them (for measuring false sharing). */
  static create(opts: { variables: readonly string[]; threads: number; padded?: boolean }): CounterSlots {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new CorralError('INVALID_ARGUMENT', `threads must be a positive whole number, not ${opts.threads}`);
    const stride = opts.padded === false ? 1 : LINE_SLOTS;
    // V8 allocates a SharedArrayBuffer's memory page-aligned, so slot 0 starts a line.
    const buffer = new SharedArrayBuffer(opts.variables.length * opts.threads * stride * 8);
    return new CounterSlots({ buffer, variables: [...opts.variables], threads: opts.threads, stride });
  }

  /** The same slots in another thread. */
  static attach(shared: SharedSlots): CounterSlots {
    return new CounterSlots(shared);
  }

  get variables(): readonly string[] {
    return this.shared.variables;
  }

  /** The position of `name`, for `SlotWriter.add` in hot loops. */
  variable(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new CorralError('INVALID_ARGUMENT', `variable ${JSON.stringify(name)} has no slots here`);
    return i;
  }

  /** The writer of thread `thread` (0 … threads − 1); one writer per thread. */
  writer(thread: number): SlotWriter {
    if (!Number.isInteger(thread) || thread < 0 || thread >= this.shared.threads) {
      throw new CorralError('INVALID_ARGUMENT', `thread must be 0-${this.shared.threads - 1}, not ${thread}`);
    }
    return new SlotWriter(this, this.cells, thread);
  }

  /** @internal the cell of (thread, variable). */
  cell(thread: number, variable: number): number {
    return (variable * this.shared.threads + thread) * this.shared.stride;
  }

  /** The member's local value: the sum of every thread's slot, modulo 2^64. */
  sum(name: string): bigint {
    const v = this.variable(name);
    let s = 0n;
    for (let t = 0; t < this.shared.threads; t++) s += Atomics.load(this.cells, this.cell(t, v));
    return wrapU64(s);
  }
}

/** One thread's increments: `Atomics.add` on its own slot (BigUint64Array wraps at 2^64 by itself). */
export class SlotWriter {
  constructor(private readonly slots: CounterSlots, private readonly cells: BigUint64Array, private readonly thread: number) {}

  increment(name: string, n = 1n): void {
    this.add(this.slots.variable(name), n);
  }

  add(variable: number, n = 1n): void {
    Atomics.add(this.cells, this.slots.cell(this.thread, variable), n);
  }
}
