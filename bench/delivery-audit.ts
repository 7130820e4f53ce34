/**
 * Checks the deliveries of messages numbered 0…n-1 against the topic
 * contract: every message arrives (at least once), in order. Redelivery of a
 * message already seen is allowed (at-least-once) and counted; a message
 * seen for the first time after a higher-numbered one is an ordering fault.
 */
export class DeliveryAudit {
  duplicates = 0;
  outOfOrder = 0;
  private readonly seen: number[] = [];
  private highest = -1;
  private distinct = 0;

  /** True the first time message `n` arrives. */
  record(n: number): boolean {
    const first = (this.seen[n] ?? 0) === 0;
    if (first) {
      this.distinct++;
      if (n < this.highest) this.outOfOrder++;
    } else {
      this.duplicates++;
    }
    this.seen[n] = (this.seen[n] ?? 0) + 1;
    this.highest = Math.max(this.highest, n);
    return first;
  }

  /** Throws unless messages 0…count-1 all arrived, in order. */
  check(count: number, what: string): void {
    const missing = this.missing(count);
    if (missing > 0 || this.outOfOrder > 0) {
      throw new Error(`${what}: ${missing} of ${count} messages missing, ${this.outOfOrder} out of order`);
    }
  }

  /** True once every one of messages 0…count-1 has arrived. */
  complete(count: number): boolean {
    return this.distinct >= count && this.missing(count) === 0;
  }

  /** How many of messages 0…count-1 never arrived. */
  missing(count: number): number {
    let n = 0;
    for (let i = 0; i < count; i++) if ((this.seen[i] ?? 0) === 0) n++;
    return n;
  }
}
