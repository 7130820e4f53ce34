import type { Request } from './request.js';

/**
 * The client's unsettled requests in creation order. Intrusive links make
 * insertion and removal O(1) without hashing, and resending in this order
 * keeps publishes to a topic in the order the application made them.
 */
export class RequestList {
  head: Request | undefined;
  private tail: Request | undefined;
  size = 0;

  push(r: Request): void {
    r.listed = true;
    r.prev = this.tail;
    r.next = undefined;
    if (this.tail) this.tail.next = r;
    else this.head = r;
    this.tail = r;
    this.size++;
  }

  remove(r: Request): void {
    if (!r.listed) return;
    r.listed = false;
    if (r.prev) r.prev.next = r.next;
    else this.head = r.next;
    if (r.next) r.next.prev = r.prev;
    else this.tail = r.prev;
    r.prev = undefined;
    r.next = undefined;
    this.size--;
  }

  /** Empties the list and returns what it held, in order. */
  drain(): Request[] {
    const all: Request[] = [];
    for (let r = this.head; r !== undefined; r = r.next) all.push(r);
    for (const r of all) {
      r.listed = false;
      r.prev = undefined;
      r.next = undefined;
    }
    this.head = undefined;
    this.tail = undefined;
    this.size = 0;
    return all;
  }
}
