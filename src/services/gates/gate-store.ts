import { metaKey, type Fence, type MetadataStore } from '../../store/metadata-store.js';
import type { GateBook, GateCounters, GateSnapshot, StoredSeat } from './gate-book.js';
import type { GateConfig } from './gate-frames.js';

/**
 * A gate as the first layout stored it: one JSON value in the resource state,
 * rewritten whole on every change (docs/decisions/gate-state-stored-whole.md,
 * superseded). Still read, so that a gate stored that way loads.
 */
export interface StoredGateV1 {
  v: 1;
  salt: string;
  config: GateConfig;
  next: number;
  admissions: number;
  /** [seq, class, admission] of every holder. */
  holders: Array<[number, number, number]>;
  /** Per class, the waiters' seqs in queue order. */
  queues: number[][];
  /** [seq, class] of arrivals before the opening instant. */
  pre: Array<[number, number]>;
  recent: number[];
  /** [seq, request id] of every holder and waiter. */
  nonces: Array<[number, string]>;
}

/** A gate's head: its counters and settings, the epoch of the owner that wrote it, and counts (so a listing reads no seat). */
export interface GateHead extends GateCounters {
  v: 2;
  epoch: number;
  holders: number;
  waiting: number;
  prequeued: number;
}

/** What the resource state holds once a gate moved to the per-seat layout. */
export const MOVED_MARKER = JSON.stringify({ v: 2 });

/** A gate read from the store: its snapshot, and whether it was in the old whole-value layout (then it must be rewritten). */
export interface LoadedGate {
  snapshot: GateSnapshot;
  legacy: boolean;
}

export function gateHeadKey(resource: string): string {
  return metaKey('gatehead', resource);
}

/** The prefix of every seat key of one gate ("|" cannot occur in a gate's name, so no other gate shares it). */
function seatPrefix(resource: string): string {
  return metaKey('gateseat', resource, '');
}

/** The v1 value as a snapshot: seats numbered in queue order. */
export function fromStoredV1(s: StoredGateV1): GateSnapshot {
  const nonce = new Map(s.nonces);
  const seats: Array<[number, StoredSeat]> = [];
  for (const [seq, cls, admission] of s.holders) seats.push([seq, ['h', cls, admission, nonce.get(seq) ?? '']]);
  let order = 1;
  for (const [cls, q] of s.queues.entries()) for (const seq of q) seats.push([seq, ['w', cls, order++, nonce.get(seq) ?? '']]);
  for (const [seq, cls] of s.pre) seats.push([seq, ['p', cls, 0, nonce.get(seq) ?? '']]);
  return { salt: s.salt, config: s.config, next: s.next, order, admissions: s.admissions, recent: s.recent, seats };
}

/**
 * One gate in the metadata store, written so that a change costs what
 * changed, not the size of the queue [P-15.6]:
 * - `gatefence|<gate>`        the epoch of the newest owner, raised on gaining the gate
 * - `gatehead|<gate>`         counters and settings (GateHead), small
 * - `gateseat|<gate>|<seq>`   one per holder or waiter (StoredSeat), written when it
 *                             arrives, is admitted or is placed at the opening; deleted when it leaves
 * Each write is one `writeBatch` under the fence: the head and the changed
 * seats land together or not at all, and not once a newer owner raised it.
 */
export class GateStore {
  readonly fence: Fence;
  private readonly headKey: string;
  private readonly seats: string;

  constructor(private readonly metadata: MetadataStore, readonly resource: string, readonly epoch: number) {
    this.fence = { key: metaKey('gatefence', resource), epoch };
    this.headKey = gateHeadKey(resource);
    this.seats = seatPrefix(resource);
  }

  /**
   * Raises the fence, then reads the gate: no older owner can write after
   * the raise, so what is read is all that will ever have been stored.
   * `legacy` is the resource state's value, read when no head exists yet.
   * FENCED when a newer owner raised the fence already.
   */
  async gain(legacy: string | undefined): Promise<LoadedGate | undefined> {
    await this.metadata.put(this.fence.key, String(this.epoch), { fence: this.fence });
    const head = await this.metadata.get(this.headKey);
    if (head) {
      const h = JSON.parse(head.value) as GateHead;
      const entries = await this.metadata.list(this.seats);
      const seats = entries.map((e): [number, StoredSeat] => [Number(e.key.slice(this.seats.length)), JSON.parse(e.value) as StoredSeat]);
      return { snapshot: { salt: h.salt, config: h.config, next: h.next, order: h.order, admissions: h.admissions, recent: h.recent, seats }, legacy: false };
    }
    const old = legacy === undefined ? undefined : (JSON.parse(legacy) as { v?: number });
    return old?.v === 1 ? { snapshot: fromStoredV1(old as StoredGateV1), legacy: true } : undefined;
  }

  /**
   * Stores what changed in the book since the last write: the head and the
   * changed seats, in one fenced batch. On failure the changes stay noted in
   * the book (the next write carries them); FENCED once a newer owner exists.
   */
  async write(book: GateBook<unknown>): Promise<void> {
    if (!book.dirty) return;
    const changes = book.takeChanges();
    const head: GateHead = {
      v: 2, epoch: this.epoch, ...book.counters(), holders: book.holders.size, waiting: book.waiting, prequeued: book.pre.length,
    };
    const puts = [{ key: this.headKey, value: JSON.stringify(head) }];
    const deletes: string[] = [];
    for (const [seq, seat] of changes) {
      if (seat) puts.push({ key: this.seats + String(seq), value: JSON.stringify(seat) });
      else deletes.push(this.seats + String(seq));
    }
    try {
      await this.metadata.writeBatch(this.fence, { puts, deletes });
    } catch (err) {
      book.restore(changes);
      throw err;
    }
  }
}
