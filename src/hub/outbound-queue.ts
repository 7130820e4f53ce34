import type { Duplex } from 'node:stream';
import { ownedBuffer } from '../protocol/owned-buffer.js';

/** Where the bytes queued to every connection are counted together. */
export interface OutboundAccount {
  /** Bytes were queued (positive), or taken by the kernel or dropped (negative). */
  add(bytes: number): void;
}

/**
 * The frames queued for one connection: those coalesced within this turn of
 * the event loop, and those written to the socket that the kernel has not
 * taken yet (the socket calls back once a write is taken). Replies are
 * counted apart from deliveries: a client makes replies by sending requests,
 * and deliveries only by granting credit, so the two are bounded differently
 * ([P-1.7]).
 */
export class OutboundQueue {
  private out: Buffer[] = [];
  private outBytes = 0;
  private outReplyBytes = 0;
  private writingBytes = 0;
  private writingReplyBytes = 0;
  private flushQueued = false;
  private discarded = false;
  private since = 0;

  constructor(
    private readonly socket: Duplex,
    private readonly account: OutboundAccount,
    /** The kernel took a write: there is room again. */
    private readonly taken: () => void,
  ) {}

  /** Bytes queued and not yet taken by the kernel. */
  get bytes(): number {
    return this.outBytes + this.writingBytes;
  }

  /** The part of `bytes` that is not DELIVER frames. */
  get replyBytes(): number {
    return this.outReplyBytes + this.writingReplyBytes;
  }

  /**
   * When the kernel last took bytes of this connection, or when bytes were
   * queued while none were (`performance.now()` time): how long a reader
   * has been stalled, once bytes wait.
   */
  get waitingSince(): number {
    return this.since;
  }

  push(buf: Buffer, reply: boolean): void {
    if (this.discarded) return;
    if (this.bytes === 0) this.since = performance.now();
    this.out.push(buf);
    this.outBytes += buf.length;
    if (reply) this.outReplyBytes += buf.length;
    this.account.add(buf.length);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes what was coalesced to the socket. */
  flush(): void {
    this.flushQueued = false;
    if (this.out.length === 0 || this.discarded) return;
    // What is written may wait in the socket for as long as the client does not read.
    const chunk = ownedBuffer(this.out, this.outBytes);
    const bytes = this.outBytes;
    const replies = this.outReplyBytes;
    this.out = [];
    this.outBytes = 0;
    this.outReplyBytes = 0;
    this.writingBytes += bytes;
    this.writingReplyBytes += replies;
    this.socket.write(chunk, () => this.written(bytes, replies));
  }

  /** The connection is gone: nothing queued will be sent, and nothing counts any more. */
  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    this.account.add(-this.bytes);
    this.out = [];
    this.outBytes = this.outReplyBytes = this.writingBytes = this.writingReplyBytes = 0;
  }

  private written(bytes: number, replies: number): void {
    if (this.discarded) return;
    this.writingBytes -= bytes;
    this.writingReplyBytes -= replies;
    this.account.add(-bytes);
    this.since = performance.now();
    this.taken();
  }
}
