import type { OutboundAccount } from './outbound-queue.js';

/**
 * The hub-wide budget for bytes queued to client connections. Each
 * connection's deliveries already pause at its own bound (maxOutboundBytes),
 * but a thousand stalled subscribers would each fill theirs. Past the budget,
 * deliveries stop to every connection holding at least its share (the budget
 * divided by the connections), so the connections that hold the most wait,
 * and those that read what they are sent keep being served. Held connections
 * are released once the total falls under the budget again.
 *
 * Every frame counts toward the total (replies take memory too), but only
 * deliveries are held: replies are bounded per connection by backpressure
 * on reading ([P-1.7]).
 */
export class OutboundBudget<C> implements OutboundAccount {
  private total = 0;
  private connections = 0;
  private readonly held = new Set<C>();
  private releaseQueued = false;

  constructor(
    readonly budgetBytes: number,
    /** A held connection may take deliveries again. */
    private readonly release: (connection: C) => void,
  ) {}

  /** Bytes queued to every connection, not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.total;
  }

  /** Connections whose deliveries wait for the total to fall. */
  get heldConnections(): number {
    return this.held.size;
  }

  opened(): void {
    this.connections++;
  }

  closed(connection: C): void {
    this.connections--;
    this.held.delete(connection);
  }

  add(bytes: number): void {
    this.total += bytes;
    if (bytes < 0 && this.held.size > 0 && this.total < this.budgetBytes && !this.releaseQueued) {
      this.releaseQueued = true;
      setImmediate(() => {
        this.releaseQueued = false;
        const held = [...this.held];
        this.held.clear();
        for (const c of held) this.release(c);
      });
    }
  }

  /** May a connection that holds `queued` bytes take one more delivery? If not, it is held. */
  admits(connection: C, queued: number): boolean {
    if (this.total < this.budgetBytes || queued < this.budgetBytes / Math.max(1, this.connections)) {
      if (this.held.size > 0) this.held.delete(connection);
      return true;
    }
    this.held.add(connection);
    return false;
  }
}
