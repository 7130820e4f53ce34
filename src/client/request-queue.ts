import type { HubConnection } from './hub-connection.js';
import { PublishChains } from './publish-chain.js';
import { PublishRequest } from './publish-request.js';
import { RequestList } from './request-list.js';
import type { Request } from './request.js';

type Conn = HubConnection<Request>;

/** Where a request goes now; undefined while no connection can take it. */
export interface RequestRouting {
  connectionFor(topic: string | undefined): Conn | undefined;
}

/** Requests for a topic wait while earlier ones are still in flight on `conn`, the connection the topic is leaving. */
interface Hold {
  conn: Conn;
  left: number;
  /** A publish was stored meanwhile, so waiting ones need higher producer sequences. */
  renumber: boolean;
}

/**
 * Every unsettled request of a client, in creation order, in flight or
 * waiting to be (re)sent. Resending in creation order, and holding a topic
 * back while earlier requests for it are still in flight elsewhere, keeps a
 * topic's publishes in the order the application made them [P-4.3].
 */
export class RequestQueue {
  private readonly list = new RequestList();
  private readonly chains = new PublishChains();
  /** Listed requests not in flight. */
  private unsent = 0;
  private readonly holds = new Map<string, Hold>();
  private passQueued = false;
  private passTimer: NodeJS.Timeout | undefined;
  private passAt = Infinity;
  private closed = false;

  constructor(
    private readonly routing: RequestRouting,
    /** [P-4.4] a fresh, higher producer sequence. */
    private readonly nextProducerSeq: () => number,
  ) {}

  submit(req: Request): void {
    this.list.push(req);
    if (req instanceof PublishRequest) this.chains.link(req);
    // Fast path: nothing waits to be resent, so sending now cannot overtake an earlier request.
    if (this.unsent === 0 && this.holds.size === 0 && req.notBefore === 0) {
      const conn = this.routing.connectionFor(req.topic);
      if (conn !== undefined) {
        req.conn = conn;
        conn.send(req);
        return;
      }
    }
    this.unsent++;
    this.schedule();
  }

  /** Sends a request tied to one connection (DETACH). */
  submitTo(conn: Conn, req: Request): void {
    this.list.push(req);
    req.conn = conn;
    conn.send(req);
  }

  /** The request left `conn` settled (answered, refused for good); `stored`: a publish was newly stored. */
  settle(conn: Conn | undefined, req: Request, stored: boolean): void {
    if (conn !== undefined && this.holds.size !== 0) this.release(conn, req, stored);
    this.unlist(req);
    req.conn = undefined;
    // A publish waiting for this one to leave another connection [P-4.6] can go now.
    this.schedule();
  }

  /** The request left `conn` unanswered (redirect, retryable refusal): send it again, not before `notBefore`. */
  retry(conn: Conn, req: Request, notBefore: number): void {
    if (this.holds.size !== 0) this.release(conn, req, false);
    req.conn = undefined;
    req.notBefore = notBefore;
    if (req.topic !== undefined) this.hold(req.topic, conn);
    this.unsent++;
    this.schedule();
  }

  /**
   * `topic` now routes away from `conn` [P-6.4]: its requests still in flight
   * there will come back (REDIRECT, NOT_OWNER), so later ones wait for them
   * rather than overtake them at the new owner [P-4.3].
   */
  rerouted(topic: string, conn: Conn): void {
    if (this.closed) return;
    this.hold(topic, conn);
    this.schedule();
  }

  /** `conn` closed with `inFlight` unanswered: their outcome is unknown, so they are resent unchanged [P-4.4]. */
  connectionClosed(conn: Conn, inFlight: readonly Request[]): void {
    for (const [topic, h] of this.holds) if (h.conn === conn) this.holds.delete(topic);
    for (const r of inFlight) {
      r.conn = undefined;
      if (r.connectionLost()) this.unlist(r);
      else this.unsent++;
    }
    this.schedule();
  }

  /** Removes the first waiting request that matches; true when there was one. */
  cancelWaiting(match: (r: Request) => boolean): boolean {
    for (let r = this.list.head; r !== undefined; r = r.next) {
      if (r.conn === undefined && match(r)) {
        this.unlist(r);
        this.unsent--;
        return true;
      }
    }
    return false;
  }

  /**
   * Takes the requests whose deadline passed, with the connection each was in
   * flight on. The list is in creation order and deadlines grow with it, so
   * the scan stops at the first request still in time.
   */
  expired(now: number): Array<{ req: Request; conn: Conn | undefined }> {
    const out: Array<{ req: Request; conn: Conn | undefined }> = [];
    let r = this.list.head;
    while (r !== undefined) {
      const next = r.next;
      if (r.deadline <= now) {
        const conn = r.conn;
        if (conn !== undefined) {
          conn.forget(r);
          r.lostInFlight();
        } else {
          this.unsent--;
        }
        this.settle(conn, r, false);
        out.push({ req: r, conn });
      } else if (r.deadline !== Infinity) {
        break;
      }
      r = next;
    }
    return out;
  }

  /** Stops sending and hands back every request, in order. */
  close(): Request[] {
    this.closed = true;
    clearTimeout(this.passTimer);
    this.unsent = 0;
    this.holds.clear();
    this.chains.clear();
    const all = this.list.drain();
    for (const r of all) {
      if (r.conn !== undefined) {
        r.conn.forget(r);
        r.lostInFlight();
      }
      r.conn = undefined;
    }
    return all;
  }

  /** Sends what waits, on the next turn. */
  schedule(): void {
    if (this.passQueued || this.closed || this.unsent === 0) return;
    this.passQueued = true;
    setImmediate(this.pass);
  }

  /** Sends every waiting request that can go, in creation order; one that cannot blocks the later ones of its topic. */
  private readonly pass = (): void => {
    this.passQueued = false;
    if (this.unsent === 0 || this.closed) return;
    const now = Date.now();
    let blocked: Set<string> | undefined;
    let wakeAt = Infinity;
    for (let r = this.list.head; r !== undefined; r = r.next) {
      if (r.conn !== undefined) continue;
      const topic = r.topic;
      if (topic !== undefined && (blocked?.has(topic) || this.holds.has(topic))) {
        (blocked ??= new Set()).add(topic);
        continue;
      }
      let conn = r.notBefore > now ? undefined : this.routing.connectionFor(topic);
      // [P-4.6] the publish before it is in flight on another connection: this one would be refused until that one is stored.
      if (conn !== undefined && r instanceof PublishRequest && r.before?.conn !== undefined && r.before.conn !== conn) conn = undefined;
      if (conn === undefined) {
        if (r.notBefore > now) wakeAt = Math.min(wakeAt, r.notBefore);
        if (topic !== undefined) (blocked ??= new Set()).add(topic);
        continue;
      }
      this.unsent--;
      r.conn = conn;
      conn.send(r);
    }
    if (wakeAt < this.passAt) {
      clearTimeout(this.passTimer);
      this.passAt = wakeAt;
      this.passTimer = setTimeout(() => {
        this.passTimer = undefined;
        this.passAt = Infinity;
        this.schedule();
      }, wakeAt - now);
    }
  };

  private unlist(r: Request): void {
    this.list.remove(r);
    if (r instanceof PublishRequest) this.chains.unlink(r);
  }

  private hold(topic: string, conn: Conn): void {
    if (this.holds.has(topic)) return;
    const left = conn.countInFlight((r) => r.topic === topic);
    if (left > 0) this.holds.set(topic, { conn, left, renumber: false });
  }

  private release(conn: Conn, req: Request, stored: boolean): void {
    const topic = req.topic;
    if (topic === undefined) return;
    const h = this.holds.get(topic);
    if (h === undefined || h.conn !== conn) return;
    if (stored) h.renumber = true;
    if (--h.left > 0) return;
    this.holds.delete(topic);
    if (h.renumber) {
      // [P-4.4] the hub now remembers a higher producer sequence for this topic; the
      // waiting publishes (refused or never sent, so not stored) need higher ones.
      for (let r = this.list.head; r !== undefined; r = r.next) {
        if (r.conn === undefined && r.topic === topic && r instanceof PublishRequest) r.producerSeq = this.nextProducerSeq();
      }
    }
    this.schedule();
  }
}
