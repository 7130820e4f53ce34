import type { CorralError } from '../../src/protocol/corral-error.js';
import { encodeFrame } from '../../src/protocol/encode.js';
import { FrameDecoder, type FrameSink } from '../../src/protocol/frame-decoder.js';
import type { Frame } from '../../src/protocol/frames.js';

export type SinkEvent =
  | { kind: 'frame'; frame: Frame }
  | { kind: 'badFrame'; err: CorralError; corr: number }
  | { kind: 'fatal'; err: CorralError };

/** A FrameSink that keeps every call, in order, for assertions. */
export class RecordingSink implements FrameSink {
  readonly events: SinkEvent[] = [];

  frame(frame: Frame): void {
    this.events.push({ kind: 'frame', frame });
  }
  badFrame(err: CorralError, corr: number): void {
    this.events.push({ kind: 'badFrame', err, corr });
  }
  fatal(err: CorralError): void {
    this.events.push({ kind: 'fatal', err });
  }

  get frames(): Frame[] {
    return this.events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));
  }
}

/** Decodes `chunks` in order with a fresh decoder; returns what the sink saw. */
export function decodeChunks(chunks: readonly Buffer[], maxFrameBytes = 1024 * 1024): SinkEvent[] {
  const sink = new RecordingSink();
  const decoder = new FrameDecoder(sink, maxFrameBytes);
  for (const c of chunks) decoder.push(c);
  return sink.events;
}

export function encodeAll(frames: readonly Frame[]): Buffer {
  return Buffer.concat(frames.map(encodeFrame));
}

/** A frame with an arbitrary type byte and body, framed per [P-2.1]. */
export function rawFrame(type: number, body: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(1 + body.length, 0);
  head[4] = type;
  return Buffer.concat([head, body]);
}
