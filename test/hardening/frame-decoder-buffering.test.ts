import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeFrame } from '../../src/protocol/encode.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame } from '../../src/protocol/frames.js';
import { RecordingSink } from '../protocol/recording-sink.js';

function publish(corr: number, bytes: number): Frame {
  return { type: FrameType.PUBLISH, corr, topic: 't', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.alloc(bytes, corr) };
}

/** Bytes Buffer.concat copies while `fn` runs (the decoder's only way to join chunks). */
function bytesJoined(fn: () => void): number {
  const concat = Buffer.concat;
  let copied = 0;
  Buffer.concat = (list: readonly Uint8Array[], total?: number): Buffer<ArrayBuffer> => {
    const out = concat.call(Buffer, list, total);
    copied += out.length;
    return out;
  };
  try {
    fn();
  } finally {
    Buffer.concat = concat;
  }
  return copied;
}

/** A full garbage collection of this process, so that memory figures count what is still referenced. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const READ_BYTES = 64 * 1024;
const PING = encodeFrame({ type: FrameType.PING, id: 7 });

/** A socket read as Node hands one over (memory of its own, 64 KiB): whole PINGs, then `tail` bytes of one more. */
function socketRead(tail: number): Buffer {
  const whole = Math.floor((READ_BYTES - tail) / PING.length);
  const read = Buffer.allocUnsafeSlow(whole * PING.length + tail);
  for (let i = 0; i < whole; i++) PING.copy(read, i * PING.length);
  PING.copy(read, whole * PING.length, 0, tail);
  return read;
}

describe('FrameDecoder: buffering and backpressure', () => {
  it('joins a large frame arriving in many chunks once, not once per chunk', () => {
    const frame = encodeFrame(publish(1, 4 * 1024 * 1024));
    const sink = new RecordingSink();
    const d = new FrameDecoder(sink, 8 * 1024 * 1024);
    const copied = bytesJoined(() => {
      for (let at = 0; at < frame.length; at += 16 * 1024) d.push(frame.subarray(at, at + 16 * 1024));
    });
    assert.equal(sink.frames.length, 1);
    assert.ok(copied <= frame.length, `copied ${copied} bytes for a frame of ${frame.length}`);
  });

  it('joins a frame that spans two reads alone: the rest of the second read is decoded where it lies', () => {
    const first = socketRead(PING.length - 2);
    const second = Buffer.concat([PING.subarray(PING.length - 2), socketRead(0)]);
    let frames = 0;
    const d = new FrameDecoder({ frame: () => frames++, badFrame: () => assert.fail('bad frame'), fatal: () => assert.fail('fatal') }, 1024);
    const copied = bytesJoined(() => {
      d.push(first);
      d.push(second);
    });
    assert.equal(frames, (first.length + second.length) / PING.length);
    assert.equal(copied, PING.length);
  });

  it('what a decoder keeps waiting does not keep alive the 64 KiB read it came in: after a frame cut at the end, and when paused near the end', () => {
    // A hub holds this for every connection it stopped reading, possibly a thousand of them, for minutes.
    const decoders: FrameDecoder[] = [];
    const count = 200;
    collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < count; i++) {
      let frames = 0;
      const d: FrameDecoder = new FrameDecoder({
        // Every other decoder is paused with 100 PINGs of its read left.
        frame: () => { if (i % 2 === 1 && ++frames === Math.floor(READ_BYTES / PING.length) - 100) d.pause(); },
        badFrame: () => assert.fail('bad frame'),
        fatal: () => assert.fail('fatal'),
      }, 1024);
      d.push(socketRead(i % 2 === 0 ? 3 : 0));
      decoders.push(d);
    }
    collectGarbage();
    const held = process.memoryUsage().arrayBuffers - before;
    const waiting = decoders.reduce((n, d) => n + d.buffered, 0);
    assert.equal(waiting, (count / 2) * 3 + (count / 2) * 100 * PING.length);
    assert.ok(held <= 2 * waiting, `${count} decoders hold ${held} bytes of memory for ${waiting} bytes waiting`);
  });

  it('holds frames while paused, in order, and goes on after resume; bytes pushed meanwhile follow', () => {
    const frames = [1, 2, 3, 4, 5].map((i) => publish(i, 10));
    const seen: number[] = [];
    const d: FrameDecoder = new FrameDecoder({
      frame: (f) => {
        if ('corr' in f) seen.push(f.corr);
        if (seen.length === 2) d.pause();
      },
      badFrame: () => assert.fail('bad frame'),
      fatal: () => assert.fail('fatal'),
    }, 1024);
    d.push(Buffer.concat(frames.slice(0, 3).map(encodeFrame)));
    assert.deepEqual(seen, [1, 2]);
    d.push(Buffer.concat(frames.slice(3).map(encodeFrame)));
    assert.deepEqual(seen, [1, 2], 'nothing delivered while paused');
    d.resume();
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal(d.buffered, 0);
  });

  it('reports an oversize length prefix that arrived while paused once resumed, and one split across chunks', () => {
    const sink = new RecordingSink();
    const d = new FrameDecoder(sink, 1000);
    d.pause();
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(5000, 0);
    d.push(prefix);
    assert.equal(sink.events.length, 0);
    d.resume();
    assert.deepEqual(sink.events.map((e) => e.kind === 'fatal' && e.err.code), ['FRAME_TOO_LARGE']);
    const split = new RecordingSink();
    const d2 = new FrameDecoder(split, 1000);
    d2.push(prefix.subarray(0, 2));
    d2.push(prefix.subarray(2));
    assert.deepEqual(split.events.map((e) => e.kind === 'fatal' && e.err.code), ['FRAME_TOO_LARGE']);
  });
});
