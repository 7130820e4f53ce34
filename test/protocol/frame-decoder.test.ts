import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CorralError } from '../../src/protocol/corral-error.js';
import { encodeFrame } from '../../src/protocol/encode.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame } from '../../src/protocol/frames.js';
import { decodeChunks, encodeAll, rawFrame, RecordingSink, type SinkEvent } from './recording-sink.js';
import { sampleFrames } from './sample-frames.js';

const PING = { type: FrameType.PING, id: 1 } as const;
const PONG = { type: FrameType.PONG, id: 2 } as const;

/** Errors compared by code and corr, the part of them the protocol fixes. */
function comparable(events: readonly SinkEvent[]): unknown[] {
  return events.map((e) => {
    switch (e.kind) {
      case 'frame': return e;
      case 'badFrame': return { kind: e.kind, code: e.err.code, corr: e.corr };
      case 'fatal': return { kind: e.kind, code: e.err.code };
    }
  });
}

/** A frame of `f`'s type whose length prefix covers only the first `bodyBytes` of its body. */
function truncated(f: Frame, bodyBytes: number): Buffer {
  const whole = encodeFrame(f);
  return rawFrame(f.type, whole.subarray(5, 5 + bodyBytes));
}

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** Core frames a client sends with a corr ([P-1.5]). */
const REQUEST_TYPES = new Set<number>([
  FrameType.PUBLISH, FrameType.SUBSCRIBE, FrameType.DETACH, FrameType.UNSUBSCRIBE, FrameType.CONFIGURE_TOPIC, FrameType.DELETE_TOPIC, FrameType.QUERY,
]);

describe('FrameDecoder: a frame split at any offset decodes the same [P-2.1]', () => {
  const frames = sampleFrames();
  // Bad frames in the middle check that errors keep their place in the order too.
  const stream = Buffer.concat([
    encodeAll(frames.slice(0, 10)),
    truncated({ type: FrameType.PUBLISH, corr: 77, topic: 'abc', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.alloc(3) }, 6),
    rawFrame(0x3f, Buffer.from('unknown')),
    encodeAll(frames.slice(10)),
  ]);
  const expected = comparable(decodeChunks([stream]));

  it('decodes the whole stream to the sample frames in order, with the bad frames in their place', () => {
    assert.deepEqual(expected, [
      ...frames.slice(0, 10).map((frame) => ({ kind: 'frame', frame })),
      { kind: 'badFrame', code: 'BAD_FRAME', corr: 77 },
      { kind: 'badFrame', code: 'UNKNOWN_FRAME_TYPE', corr: 0 },
      ...frames.slice(10).map((frame) => ({ kind: 'frame', frame })),
    ]);
  });

  it(`decodes the same when split in two at every one of the ${stream.length + 1} offsets`, () => {
    for (let at = 0; at <= stream.length; at++) {
      const got = comparable(decodeChunks([stream.subarray(0, at), stream.subarray(at)]));
      assert.deepEqual(got, expected, `split at ${at}`);
    }
  });

  it('decodes the same when fed byte by byte', () => {
    const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    assert.deepEqual(comparable(decodeChunks(bytes)), expected);
  });

  it('counts the bytes of an incomplete frame as buffered', () => {
    const sink = new RecordingSink();
    const d = new FrameDecoder(sink, 1024);
    const ping = encodeFrame(PING);
    d.push(Buffer.concat([ping, ping.subarray(0, 3)]));
    assert.equal(d.buffered, 3);
    d.push(ping.subarray(3));
    assert.equal(d.buffered, 0);
    assert.deepEqual(sink.frames, [PING, PING]);
  });

  it('returns payloads as views into the chunk they arrived in, without copying', () => {
    const encoded = encodeFrame({ type: FrameType.DELIVER, subId: 1, seq: 1, timestamp: 1, key: Buffer.from('k'), payload: Buffer.from('payload') });
    // A chunk on its own ArrayBuffer: small Buffers share a pool, which would hide a copy.
    const memory = new ArrayBuffer(encoded.length);
    const chunk = Buffer.from(memory);
    encoded.copy(chunk);
    const [f] = decodeChunks([chunk]);
    assert.ok(f?.kind === 'frame' && !('service' in f.frame) && f.frame.type === FrameType.DELIVER);
    assert.equal(f.frame.payload.buffer, memory);
    assert.equal(f.frame.key?.buffer, memory);
    assert.equal(f.frame.payload.toString(), 'payload');
  });
});

describe('FrameDecoder: framing errors that cannot be skipped are fatal [P-2.4]', () => {
  const max = 64;

  it('accepts a frame whose length prefix equals the limit', () => {
    const f = { type: 0x40, service: 'sync', corr: 1, body: Buffer.alloc(max - 5) };
    assert.equal(encodeFrame(f).readUInt32BE(0), max);
    assert.deepEqual(decodeChunks([encodeFrame(f)], max), [{ kind: 'frame', frame: f }]);
  });

  it('a length prefix over the limit is fatal FRAME_TOO_LARGE and nothing more is emitted', () => {
    const sink = new RecordingSink();
    const d = new FrameDecoder(sink, max);
    d.push(Buffer.concat([encodeFrame(PING), lengthPrefix(max + 1), Buffer.alloc(max + 1), encodeFrame(PONG)]));
    d.push(encodeFrame(PONG));
    assert.deepEqual(comparable(sink.events), [{ kind: 'frame', frame: PING }, { kind: 'fatal', code: 'FRAME_TOO_LARGE' }]);
  });

  it('refuses an oversize length from its four bytes alone, without waiting for the body', () => {
    const sink = new RecordingSink();
    const d = new FrameDecoder(sink, max);
    d.push(lengthPrefix(0xffffffff).subarray(0, 3));
    assert.deepEqual(sink.events, []);
    d.push(lengthPrefix(0xffffffff).subarray(3));
    assert.deepEqual(comparable(sink.events), [{ kind: 'fatal', code: 'FRAME_TOO_LARGE' }]);
    assert.equal(d.buffered, 0);
  });

  it('a length prefix of 0 is fatal BAD_FRAME and nothing more is emitted', () => {
    const sink = new RecordingSink();
    const d = new FrameDecoder(sink, max);
    d.push(Buffer.concat([encodeFrame(PING), lengthPrefix(0), encodeFrame(PONG)]));
    d.push(encodeFrame(PONG));
    assert.deepEqual(comparable(sink.events), [{ kind: 'frame', frame: PING }, { kind: 'fatal', code: 'BAD_FRAME' }]);
  });
});

describe('FrameDecoder: an invalid body is skipped and the stream stays in sync [P-2.2]', () => {
  it('reports a truncated request body with the request corr, and the following frames still decode', () => {
    const checked = new Set<number>();
    for (const f of sampleFrames()) {
      if ('service' in f || !REQUEST_TYPES.has(f.type) || !('corr' in f)) continue;
      const events = comparable(decodeChunks([truncated(f, 6), encodeFrame(PING)]));
      assert.deepEqual(events, [{ kind: 'badFrame', code: 'BAD_FRAME', corr: f.corr }, { kind: 'frame', frame: PING }], `type 0x${f.type.toString(16)}`);
      checked.add(f.type);
    }
    assert.deepEqual(checked, REQUEST_TYPES, 'every request type was checked');
  });

  it('reports corr 0 when the corr bytes did not arrive or the frame is not a request', () => {
    const publish = sampleFrames().find((f) => f.type === FrameType.PUBLISH)!;
    const cases: Array<[string, Buffer]> = [
      ['PUBLISH with 3 body bytes', truncated(publish, 3)],
      ['service frame with 2 body bytes', rawFrame(0x50, Buffer.from([0, 9]))],
      ['ACK', truncated({ type: FrameType.ACK, subId: 5, seq: 1 }, 6)],
      ['CREDIT', truncated({ type: FrameType.CREDIT, subId: 5, credit: 1 }, 6)],
      ['PING with a trailing byte', rawFrame(FrameType.PING, Buffer.from([0, 0, 0, 1, 0]))],
    ];
    for (const [name, bad] of cases) {
      assert.deepEqual(comparable(decodeChunks([bad, encodeFrame(PING)])), [{ kind: 'badFrame', code: 'BAD_FRAME', corr: 0 }, { kind: 'frame', frame: PING }], name);
    }
  });

  it('reports an out-of-domain value as INVALID_ARGUMENT with the corr [P-5.2]', () => {
    const buf = encodeFrame({ type: FrameType.SUBSCRIBE, corr: 31, subId: 1, topic: 't', subscription: 's', start: { kind: 'earliest' }, credit: 1 });
    buf[5 + 4 + 4 + 3 + 3] = 0xff;
    assert.deepEqual(comparable(decodeChunks([buf, encodeFrame(PING)])), [{ kind: 'badFrame', code: 'INVALID_ARGUMENT', corr: 31 }, { kind: 'frame', frame: PING }]);
  });
});

describe('FrameDecoder.stop', () => {
  it('emits nothing after stop(), even for bytes already received', () => {
    const sink = new RecordingSink();
    const d = new FrameDecoder(sink, 1024);
    d.push(encodeFrame(PING).subarray(0, 6));
    d.stop();
    assert.equal(d.buffered, 0);
    d.push(Buffer.concat([encodeFrame(PING).subarray(6), encodeFrame(PONG)]));
    assert.deepEqual(sink.events, []);
  });

  it('honours a stop() made by the sink while it handles a frame or a bad frame', () => {
    const stream = Buffer.concat([rawFrame(FrameType.PING, Buffer.alloc(1)), encodeFrame(PING), encodeFrame(PONG)]);
    for (const stopOn of ['badFrame', 'frame'] as const) {
      const seen: string[] = [];
      const d: FrameDecoder = new FrameDecoder({
        frame: (f) => { seen.push(`frame ${f.type}`); if (stopOn === 'frame') d.stop(); },
        badFrame: (err: CorralError) => { seen.push(err.code); if (stopOn === 'badFrame') d.stop(); },
        fatal: (err: CorralError) => { seen.push(`fatal ${err.code}`); },
      }, 1024);
      d.push(stream);
      assert.deepEqual(seen, stopOn === 'badFrame' ? ['BAD_FRAME'] : ['BAD_FRAME', `frame ${FrameType.PING}`]);
      assert.equal(d.buffered, 0);
    }
  });
});
