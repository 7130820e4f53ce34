import { CorralError } from './corral-error.js';
import { decodeBody, peekCorr } from './decode.js';
import type { Frame } from './frames.js';

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
 * Chunks of an incomplete frame are kept as a list and joined once, when the
 * frame is whole: a large frame arriving in many chunks costs one copy, not
 * one copy of everything pending per chunk. The sink may `pause` the decoder
 * from inside `frame` (backpressure); later bytes wait until `resume`.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Bytes needed before the frame at the head of `chunks` is whole (its length prefix, at first). */
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
    if (this.failed) return;
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
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.chunkBytes);
    this.chunks = [];
    this.chunkBytes = 0;
    this.decoding = true;
    let pos = 0;
    const len = buf.length;
    try {
      while (len - pos >= 4 && !this.paused) {
        const frameLen = buf.readUInt32BE(pos);
        if (frameLen === 0 || frameLen > this.maxFrameBytes) {
          this.failed = true;
          this.sink.fatal(new CorralError(frameLen === 0 ? 'BAD_FRAME' : 'FRAME_TOO_LARGE',
            frameLen === 0 ? 'frame length 0' : `frame of ${frameLen} bytes exceeds the limit of ${this.maxFrameBytes}`));
          return;
        }
        if (len - pos - 4 < frameLen) break;
        const type = buf[pos + 4]!;
        const start = pos + 5;
        const end = pos + 4 + frameLen;
        pos = end;
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
    } finally {
      this.decoding = false;
    }
    // Bytes pushed while the sink ran (re-entrantly) follow what is left of this buffer.
    const rest = pos < len ? [buf.subarray(pos), ...this.chunks] : this.chunks;
    this.chunks = rest;
    this.chunkBytes = rest.reduce((n, c) => n + c.length, 0);
    // A whole length prefix at the head was already checked against the limit by the loop.
    const head = rest[0];
    this.need = this.paused || head === undefined || head.length < 4 ? 4 : 4 + head.readUInt32BE(0);
    if (!this.paused && this.chunkBytes >= this.need) this.decode();
  }

  /** Stop decoding (the connection is closing). */
  stop(): void {
    this.failed = true;
    this.chunks = [];
    this.chunkBytes = 0;
  }

  /** Bytes received but not yet forming a complete frame. */
  get buffered(): number {
    return this.chunkBytes;
  }
}
