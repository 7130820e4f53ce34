/**
 * What one subscription received of one publisher's numbered messages,
 * checked against what the hub acknowledged [P-5.1]: every acknowledged
 * message arrives, and acknowledged messages arrive (the first time) in the
 * order they were published. A message seen again is a redelivery, allowed
 * after a failover and counted apart. A message whose publish was not
 * acknowledged (its outcome unknown) may arrive or not; it does not count.
 */
export class SoakAudit {
  /** Deliveries of a message already delivered once. */
  duplicates = 0;
  private readonly seen = new Set<number>();
  /** Message numbers in the order of their first delivery. */
  private readonly firstSeen: number[] = [];
  /** The topic sequence each message was first delivered with: tells a message stored out of order from one delivered out of order. */
  private readonly seqOf = new Map<number, number>();

  record(n: number, seq: number): void {
    if (this.seen.has(n)) {
      this.duplicates++;
      return;
    }
    this.seen.add(n);
    this.firstSeen.push(n);
    this.seqOf.set(n, seq);
  }

  get delivered(): number {
    return this.seen.size;
  }

  /** Acknowledged messages never delivered. */
  lost(acked: ReadonlySet<number>): number {
    let n = 0;
    for (const m of acked) if (!this.seen.has(m)) n++;
    return n;
  }

  /** Acknowledged messages first delivered after an acknowledged message published later. */
  reordered(acked: ReadonlySet<number>): number {
    return this.reorderings(acked).length;
  }

  /** Each reordered message, with the later-published one that came first, and both topic sequences. */
  reorderings(acked: ReadonlySet<number>): Array<{ message: number; seq: number; after: number; afterSeq: number }> {
    let highest = -1;
    const out: Array<{ message: number; seq: number; after: number; afterSeq: number }> = [];
    for (const m of this.firstSeen) {
      if (!acked.has(m)) continue;
      if (m < highest) out.push({ message: m, seq: this.seqOf.get(m)!, after: highest, afterSeq: this.seqOf.get(highest)! });
      else highest = m;
    }
    return out;
  }
}
