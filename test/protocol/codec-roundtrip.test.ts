import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBody } from '../../src/protocol/decode.js';
import { encodeAck, encodeDeliver, encodeFrame, encodePublish, encodePublishAck } from '../../src/protocol/encode.js';
import { FrameType, SERVICE_RANGES, serviceRangeOf } from '../../src/protocol/frame-type.js';
import { Duplicate, type Frame } from '../../src/protocol/frames.js';
import { decodeChunks, rawFrame } from './recording-sink.js';
import { MAX_U64, sampleFrames } from './sample-frames.js';

const CORE_TYPES = new Set<number>(Object.values(FrameType));

/** Decodes one complete encoded frame (length prefix included). */
function decodeOne(buf: Buffer): Frame {
  return decodeBody(buf[4]!, buf, 5, buf.length);
}

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

describe('codec round trip [P-2.1]', () => {
  it('the samples cover every core frame type and every service range', () => {
    const types = new Set(sampleFrames().map((f) => f.type));
    for (const t of CORE_TYPES) assert.ok(types.has(t), `no sample of type 0x${t.toString(16)}`);
    for (const r of SERVICE_RANGES) assert.ok(types.has(r.first) && types.has(r.last), `no sample in the ${r.service} range`);
  });

  for (const f of sampleFrames()) {
    it(`type 0x${f.type.toString(16)} decodes to an equal object: ${JSON.stringify(f).slice(0, 90)}`, () => {
      const buf = encodeFrame(f);
      assert.equal(buf.readUInt32BE(0), buf.length - 4, 'length prefix counts the type byte and the body');
      assert.equal(buf[4], f.type);
      assert.deepEqual(decodeOne(buf), f);
    });
  }

  it('keeps an absent key apart from an empty one', () => {
    const base = { type: FrameType.DELIVER, subId: 1, seq: 1, timestamp: 1, payload: Buffer.alloc(0) } as const;
    const absent = decodeOne(encodeFrame({ ...base, key: undefined }));
    const empty = decodeOne(encodeFrame({ ...base, key: Buffer.alloc(0) }));
    assert.ok(!('service' in absent) && absent.type === FrameType.DELIVER && !('service' in empty) && empty.type === FrameType.DELIVER);
    assert.equal(absent.key, undefined);
    assert.deepEqual(empty.key, Buffer.alloc(0));
  });

  it('lays out PUBLISH exactly as docs/protocol.md [P-8.9] says', () => {
    const buf = encodeFrame({ type: FrameType.PUBLISH, corr: 1, topic: 'a', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from('hi') });
    assert.deepEqual(buf, hex(`
      0000001c 10
      00000001
      0001 61
      ffffffff
      0000
      0000000000000000
      00000002 6869`));
  });

  it('ends PUBLISH with afterSeq when given [P-4.6]', () => {
    const buf = encodeFrame({ type: FrameType.PUBLISH, corr: 1, topic: 'a', key: undefined, producerId: 'p', producerSeq: 9, payload: Buffer.from('hi'), afterSeq: 7 });
    assert.deepEqual(buf, hex(`
      00000025 10
      00000001
      0001 61
      ffffffff
      0001 70
      0000000000000009
      00000002 6869
      0000000000000007`));
  });

  it('lays out SUBSCRIBE, DELIVER and a service frame exactly as documented', () => {
    assert.deepEqual(
      encodeFrame({ type: FrameType.SUBSCRIBE, corr: 2, subId: 3, topic: 't', subscription: 's', start: { kind: 'seq', seq: MAX_U64 }, credit: 5 }),
      hex('0000001c 12 00000002 00000003 0001 74 0001 73 02 001fffffffffffff 00000005'),
    );
    assert.deepEqual(
      encodeFrame({ type: FrameType.DELIVER, subId: 1, seq: 2, timestamp: 3, key: Buffer.alloc(0), payload: Buffer.from([9]) }),
      hex('0000001e 14 00000001 0000000000000002 0000000000000003 00000000 00000001 09'),
    );
    assert.deepEqual(
      encodeFrame({ type: 0x60, service: 'gates', corr: 4, body: Buffer.from([1, 2]) }),
      hex('00000007 60 00000004 0102'),
    );
  });

  it('the direct encoders of hot frames write the same bytes as encodeFrame', () => {
    const key = Buffer.from('k');
    const payload = Buffer.alloc(256, 7);
    assert.deepEqual(
      encodePublish(1, 'topic', payload, key, 'p', 42),
      encodeFrame({ type: FrameType.PUBLISH, corr: 1, topic: 'topic', key, producerId: 'p', producerSeq: 42, payload }),
    );
    assert.deepEqual(
      encodePublish(1, 'topic', payload),
      encodeFrame({ type: FrameType.PUBLISH, corr: 1, topic: 'topic', key: undefined, producerId: undefined, producerSeq: 0, payload }),
    );
    assert.deepEqual(encodePublishAck(3, MAX_U64, Duplicate.YES), encodeFrame({ type: FrameType.PUBLISH_ACK, corr: 3, seq: MAX_U64, duplicate: Duplicate.YES }));
    assert.deepEqual(
      encodeDeliver(4, 5, 6, undefined, payload),
      encodeFrame({ type: FrameType.DELIVER, subId: 4, seq: 5, timestamp: 6, key: undefined, payload }),
    );
    assert.deepEqual(encodeAck(7, 8), encodeFrame({ type: FrameType.ACK, subId: 7, seq: 8 }));
  });

  it('round-trips a string field of exactly 65,535 UTF-8 bytes and refuses a longer one', () => {
    const longest = 'é'.repeat(32767) + 'x';
    assert.equal(Buffer.byteLength(longest), 0xffff);
    assert.deepEqual(decodeOne(encodeFrame({ type: FrameType.GOODBYE, code: 0, reason: longest })), { type: FrameType.GOODBYE, code: 0, reason: longest });
    assert.throws(() => encodeFrame({ type: FrameType.GOODBYE, code: 0, reason: `${longest}x` }), RangeError);
  });
});

describe('codec refuses what is not a valid frame [P-2.2]', () => {
  it('a u64 of exactly 2^53-1 decodes; anything above it on the wire is BAD_FRAME', () => {
    assert.deepEqual(decodeOne(hex('0000000d 16 00000001 001fffffffffffff')), { type: FrameType.ACK, subId: 1, seq: MAX_U64 });
    for (const wire of ['0020000000000000', 'ffffffffffffffff', '8000000000000001']) {
      assert.throws(() => decodeOne(hex(`0000000d 16 00000001 ${wire}`)), { name: 'CorralError', code: 'BAD_FRAME' }, wire);
    }
  });

  it('every truncation of a core frame body, and every trailing byte, is BAD_FRAME', () => {
    for (const f of sampleFrames()) {
      if ('service' in f) continue;
      const buf = encodeFrame(f);
      // [P-4.6] PUBLISH cut just before its optional last field is the same publish without it.
      const optionalFrom = f.type === FrameType.PUBLISH && f.afterSeq !== undefined ? buf.length - 8 : -1;
      for (let end = 5; end < buf.length; end++) {
        if (end === optionalFrom) {
          const without: Frame = { ...f };
          delete (without as { afterSeq?: number }).afterSeq;
          assert.deepEqual(decodeBody(f.type, buf, 5, end), without);
          continue;
        }
        assert.throws(() => decodeBody(f.type, buf, 5, end), { name: 'CorralError', code: 'BAD_FRAME' }, `type 0x${f.type.toString(16)} cut at ${end}/${buf.length}`);
      }
      const longer = Buffer.concat([buf, Buffer.from([0])]);
      assert.throws(() => decodeBody(f.type, longer, 5, longer.length), { name: 'CorralError', code: 'BAD_FRAME' }, `type 0x${f.type.toString(16)} + 1 byte`);
    }
  });

  it('a PUBLISH_ACK duplicate value other than 0, 1, 2 is BAD_FRAME [P-8.10]', () => {
    assert.deepEqual(decodeOne(hex('0000000e 11 00000007 0000000000000000 02')), { type: FrameType.PUBLISH_ACK, corr: 7, seq: 0, duplicate: Duplicate.ORIGINAL_UNKNOWN });
    for (const d of ['03', 'ff']) {
      assert.throws(() => decodeOne(hex(`0000000e 11 00000007 0000000000000000 ${d}`)), { name: 'CorralError', code: 'BAD_FRAME' }, d);
    }
  });

  it('a service frame needs its four corr bytes; the rest is the opaque body', () => {
    for (const r of SERVICE_RANGES) {
      for (let n = 0; n < 4; n++) {
        assert.throws(() => decodeOne(rawFrame(r.first, Buffer.alloc(n))), { name: 'CorralError', code: 'BAD_FRAME' });
      }
      assert.deepEqual(decodeOne(rawFrame(r.last, hex('0000000a ff'))), { type: r.last, service: r.service, corr: 10, body: hex('ff') });
    }
  });

  it('refuses to encode a service frame whose type is outside every service range', () => {
    assert.throws(() => encodeFrame({ type: 0xa0, service: 'sync', corr: 1, body: Buffer.alloc(0) }), RangeError);
  });

  it('an unknown start position kind is INVALID_ARGUMENT [P-5.2]', () => {
    const buf = encodeFrame({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 't', subscription: 's', start: { kind: 'latest' }, credit: 1 });
    const kindAt = 5 + 4 + 4 + 3 + 3;
    assert.equal(buf[kindAt], 1);
    buf[kindAt] = 3;
    assert.throws(() => decodeOne(buf), { name: 'CorralError', code: 'INVALID_ARGUMENT' });
  });

  it('every type outside the core and service ranges is UNKNOWN_FRAME_TYPE, and the next frame still decodes [P-2.3]', () => {
    const ping = { type: FrameType.PING, id: 99 } as const;
    let unknown = 0;
    for (let t = 0; t <= 0xff; t++) {
      if (CORE_TYPES.has(t) || serviceRangeOf(t)) continue;
      unknown++;
      const events = decodeChunks([Buffer.concat([rawFrame(t, hex('00000005 0102')), encodeFrame(ping)])]);
      assert.equal(events.length, 2, `type 0x${t.toString(16)}`);
      const [bad, next] = events;
      assert.ok(bad?.kind === 'badFrame', `type 0x${t.toString(16)}: ${bad?.kind}`);
      assert.equal(bad.err.code, 'UNKNOWN_FRAME_TYPE');
      assert.equal(bad.corr, 0, 'an unknown frame has no known corr');
      assert.deepEqual(next, { kind: 'frame', frame: ping });
    }
    assert.ok(unknown > 100, 'the loop reached the unknown types');
  });
});
