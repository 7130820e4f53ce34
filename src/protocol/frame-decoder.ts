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
 */
export class FrameDecoder {
  private pending: Buffer | undefined;
  private failed = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxFrameBytes: number,
  ) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let pos = 0;
    const len = buf.length;
    while (len - pos >= 4) {
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
    if (pos < len) this.pending = buf.subarray(pos);
  }

  /** Stop decoding (the connection is closing). */
  stop(): void {
    this.failed = true;
    this.pending = undefined;
  }

  /** Bytes received but not yet forming a complete frame. */
  get buffered(): number {
    return this.pending?.length ?? 0;
  }
}
