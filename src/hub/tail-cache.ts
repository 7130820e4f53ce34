import type { LogRecord } from '../store/message-log.js';

/** Shared byte budget of every topic's tail. */
export class TailBudget {
  used = 0;
  constructor(readonly limit: number) {}
  get exceeded(): boolean {
    return this.used > this.limit;
  }
}

/**
 * The newest committed records of one topic, contiguous by seq, so that
 * subscribers at the head are served without reading the store.
 */
export class TailCache {
  private records: LogRecord[] = [];
  private head = 0; // index of the first live record in `records`
  private bytes = 0;

  constructor(
    private readonly maxRecords: number,
    private readonly budget: TailBudget,
  ) {}

  get size(): number {
    return this.records.length - this.head;
  }

  get firstSeq(): number | undefined {
    return this.records[this.head]?.seq;
  }

  append(recs: readonly LogRecord[]): void {
    for (const r of recs) {
      this.records.push(r);
      this.bytes += r.payload.length;
      this.budget.used += r.payload.length;
    }
    let keep = this.maxRecords;
    // Over the shared budget, this topic keeps only a short head window.
    if (this.budget.exceeded) keep = Math.min(keep, 64);
    if (this.size > keep) this.dropFront(this.size - keep);
  }

  get(seq: number): LogRecord | undefined {
    const first = this.records[this.head];
    if (!first) return undefined;
    return this.records[this.head + seq - first.seq];
  }

  /** Forget records with seq <= seq (everyone has them). */
  trimThrough(seq: number): void {
    const first = this.firstSeq;
    if (first === undefined || seq < first) return;
    this.dropFront(Math.min(this.size, seq - first + 1));
  }

  clear(): void {
    this.dropFront(this.size);
  }

  private dropFront(n: number): void {
    for (let i = 0; i < n; i++) {
      const r = this.records[this.head + i]!;
      this.bytes -= r.payload.length;
      this.budget.used -= r.payload.length;
    }
    this.head += n;
    // Compact once the dead prefix is half the array: dropped records must not
    // stay reachable (amortised O(1) per record).
    if (this.head >= 32 && this.head * 2 >= this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }
}
