import { CorralError } from './corral-error.js';
import { decodeBody, peekCorr } from './decode.js';
import type { Frame } from './frames.js';
import { holdsMuchMore, ownedBuffer } from './owned-buffer.js';

export interface FrameSink {
  frame(f: Frame): void;
  /** A frame was framed correctly but its body is invalid; the stream stays in sync. */
  badFrame(err: CorralError, corr: number): void;
  /** The stream cannot be resynchronised (oversize length prefix); the connection must close. */
  fatal(err: CorralError): void;
}

/**
 * A byte-level state machine: feed it chunks as they arrive, it calls the sink
 * once per complete frame [P-2.1]. No I/O. A frame split at any offset decodes
 * the same. Payload views point into the chunk they arrived in.
 *
 * Frames that lie whole in a chunk are decoded in place. A frame that spans
 * chunks is joined once, when it is whole, and only that frame: a large frame
 * arriving in many chunks costs one copy, and the chunk it ends in is not
 * copied along with it. The sink may `pause` the decoder from inside `frame`
 * (backpressure); later bytes wait until `resume`. What waits is kept at
 * about its own size: the few bytes left of a 64 KiB socket read are copied
 * out rather than keep the read alive (a paused connection may wait for
 * minutes, and a hub may have a thousand of them).
 */
export class FrameDecoder {
  /** Bytes received and not decoded yet; those of the first chunk from `offset` on. */
  private chunks: Buffer[] = [];
  private offset = 0;
  private chunkBytes = 0;
  /** Bytes needed before the frame at the head is whole (its length prefix, at first). */
  private need = 4;
  private failed = false;
  private paused = false;
  private decoding = false;

  constructor(
    private readonly sink: FrameSink,
    /** Largest frame accepted; a session may raise it after the handshake. */
    public maxFrameBytes: number,
  ) {}

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (!this.paused && !this.decoding && this.chunkBytes >= this.need) this.decode();
  }

  /** Stops delivering frames after the current one; bytes keep being buffered. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.failed && !this.decoding && this.chunkBytes >= 4) this.decode();
  }

  private decode(): void {
    this.decoding = true;
    try {
      // Bytes pushed while the sink runs (re-entrantly) join the list and are decoded by this loop.
      for (let head = this.head(); head !== undefined && !this.paused; head = this.head()) this.decodeIn(head);
    } finally {
      this.decoding = false;
    }
    if (this.failed) return;
    const first = this.chunks[0];
    if (first !== undefined && this.offset > 0) {
      const rest = first.subarray(this.offset);
      this.chunks[0] = holdsMuchMore(rest) ? ownedBuffer([rest], rest.length) : rest;
      this.offset = 0;
    }
  }

  /**
   * The first chunk, once the frame at its head lies whole in it: joins the
   * bytes of that frame into a chunk of their own when it spans several.
   * Undefined while the frame is incomplete (and `need` says how many bytes
   * it takes), or when the length prefix is refused.
   */
  private head(): Buffer | undefined {
    if (this.failed || this.chunkBytes < 4) {
      this.need = 4;
      return undefined;
    }
    let first = this.chunks[0]!;
    const frameLen = this.headLength();
    if (this.refused(frameLen)) return undefined;
    const whole = 4 + frameLen;
    if (first.length - this.offset >= whole) return first;
    if (this.chunkBytes < whole) {
      this.need = whole;
      return undefined;
    }
    const parts: Buffer[] = [];
    for (let left = whole; left > 0;) {
      first = this.chunks[0]!;
      const available = first.length - this.offset;
      if (available <= left) {
        parts.push(first.subarray(this.offset));
        this.chunks.shift();
        this.offset = 0;
        left -= available;
      } else {
        parts.push(first.subarray(this.offset, this.offset + left));
        this.chunks[0] = first.subarray(this.offset + left);
        this.offset = 0;
        left = 0;
      }
    }
    const joined = Buffer.concat(parts, whole);
    this.chunks.unshift(joined);
    return joined;
  }

  /** The length prefix of the frame at the head, which may itself be split across chunks. */
  private headLength(): number {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= 4) return first.readUInt32BE(this.offset);
    let n = 0;
    let got = 0;
    for (let i = 0; got < 4; i++) {
      const c = this.chunks[i]!;
      for (let j = i === 0 ? this.offset : 0; j < c.length && got < 4; j++, got++) n = n * 256 + c[j]!;
    }
    return n;
  }

  /** A length prefix the stream cannot go on after: the sink is told, the decoder stops. */
  private refused(frameLen: number): boolean {
    if (frameLen !== 0 && frameLen <= this.maxFrameBytes) return false;
    this.stop();
    this.sink.fatal(new CorralError(frameLen === 0 ? 'BAD_FRAME' : 'FRAME_TOO_LARGE',
      frameLen === 0 ? 'frame length 0' : `frame of ${frameLen} bytes exceeds the limit of ${this.maxFrameBytes}`));
    return true;
  }

  /** Decodes the frames that lie whole in `buf`, the first chunk, from `offset` on; drops it once all are. */
  private decodeIn(buf: Buffer): void {
    const len = buf.length;
    let pos = this.offset;
    while (len - pos >= 4 && !this.paused) {
      const frameLen = buf.readUInt32BE(pos);
      if (this.refused(frameLen)) return;
      if (len - pos - 4 < frameLen) break;
      const type = buf[pos + 4]!;
      const start = pos + 5;
      const end = pos + 4 + frameLen;
      pos = end;
      // Consumed before the sink runs: it may pause, push or stop.
      this.offset = pos;
      this.chunkBytes -= 4 + frameLen;
      let f: Frame;
      try {
        f = decodeBody(type, buf, start, end);
      } catch (err) {
        if (!(err instanceof CorralError)) throw err;
        this.sink.badFrame(err, peekCorr(type, buf, start, end));
        if (this.failed) return;
        continue;
      }
      this.sink.frame(f);
      if (this.failed) return;
    }
    if (pos === len) {
      this.chunks.shift();
      this.offset = 0;
    }
  }

  /** Stop decoding (the connection is closing). */
  stop(): void {
    this.failed = true;
    this.chunks = [];
    this.offset = 0;
    this.chunkBytes = 0;
  }

  /** Bytes received but not yet forming a complete frame. */
  get buffered(): number {
    return this.chunkBytes;
  }
}
