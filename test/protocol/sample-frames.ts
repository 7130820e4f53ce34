import { FrameType, SERVICE_RANGES } from '../../src/protocol/frame-type.js';
import { Duplicate, PROTOCOL_VERSION, type Frame } from '../../src/protocol/frames.js';

export const MAX_U64 = Number.MAX_SAFE_INTEGER;
export const MAX_U32 = 0xffffffff;
const UNICODE = 'Zürich — 東京 🐄 ǅ\u0000end';

/**
 * At least one frame of every core type and one per service range, in the
 * form the decoder returns (so `deepEqual(decode(encode(f)), f)` holds).
 * Edge values on purpose: absent vs empty keys, u64 at 2^53-1, unicode, empty
 * payloads and strings, every start kind.
 */
export function sampleFrames(): Frame[] {
  const frames: Frame[] = [
    { type: FrameType.HELLO, version: PROTOCOL_VERSION, token: 's3cret', client: UNICODE, features: ['tls', 'x-trace', ''] },
    { type: FrameType.HELLO, version: 0xffff, token: '', client: '', features: [] },
    { type: FrameType.WELCOME, version: PROTOCOL_VERSION, hubId: 'hub-1', maxFrameBytes: MAX_U32, maxPayloadBytes: 1024 * 1024, maxSubscriptions: 0xffff, features: ['permissions'] },
    { type: FrameType.PING, id: 0 },
    { type: FrameType.PONG, id: MAX_U32 },
    { type: FrameType.GOODBYE, code: 20, reason: UNICODE },
    { type: FrameType.ERROR, corr: 7, subId: 3, code: 0xffff, message: UNICODE },
    { type: FrameType.OK, corr: MAX_U32 },
    { type: FrameType.REDIRECT, corr: 9, topic: 'orders/eu:1', hubId: 'hub-2', address: '[::1]:7400', epoch: MAX_U64 },
    { type: FrameType.PUBLISH, corr: 1, topic: 'a', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.alloc(0) },
    { type: FrameType.PUBLISH, corr: 2, topic: 'b', key: Buffer.alloc(0), producerId: 'producer-ü', producerSeq: MAX_U64, payload: Buffer.from(UNICODE) },
    { type: FrameType.PUBLISH, corr: 3, topic: 'c', key: Buffer.from([0, 0xff, 0xfe]), producerId: undefined, producerSeq: 0, payload: Buffer.alloc(300, 0xab) },
    { type: FrameType.PUBLISH, corr: 4, topic: 'd', key: undefined, producerId: 'p', producerSeq: MAX_U64, payload: Buffer.from('x'), afterSeq: MAX_U64 - 1 },
    { type: FrameType.PUBLISH, corr: 5, topic: 'd', key: undefined, producerId: 'p', producerSeq: 1, payload: Buffer.alloc(0), afterSeq: 0 },
    { type: FrameType.PUBLISH_ACK, corr: 1, seq: MAX_U64, duplicate: Duplicate.NO },
    { type: FrameType.PUBLISH_ACK, corr: 2, seq: 9, duplicate: Duplicate.YES },
    { type: FrameType.PUBLISH_ACK, corr: 3, seq: 0, duplicate: Duplicate.ORIGINAL_UNKNOWN },
    { type: FrameType.SUBSCRIBE, corr: 4, subId: 1, topic: 't', subscription: 's', start: { kind: 'earliest' }, credit: 0 },
    { type: FrameType.SUBSCRIBE, corr: 5, subId: 2, topic: 't', subscription: 's2', start: { kind: 'latest' }, credit: MAX_U32 },
    { type: FrameType.SUBSCRIBE, corr: 6, subId: MAX_U32, topic: 't', subscription: 's3', start: { kind: 'seq', seq: MAX_U64 }, credit: 10 },
    { type: FrameType.SUBSCRIBED, corr: 4, subId: 1, ackedSeq: MAX_U64 - 1, lastSeq: MAX_U64 },
    { type: FrameType.DELIVER, subId: 1, seq: MAX_U64, timestamp: 1_700_000_000_000, key: undefined, payload: Buffer.alloc(0) },
    { type: FrameType.DELIVER, subId: 2, seq: 1, timestamp: 0, key: Buffer.alloc(0), payload: Buffer.from('x') },
    { type: FrameType.DELIVER, subId: 3, seq: 2, timestamp: MAX_U64, key: Buffer.from('k'), payload: Buffer.alloc(256, 1) },
    { type: FrameType.CREDIT, subId: 1, credit: MAX_U32 },
    { type: FrameType.ACK, subId: 1, seq: MAX_U64 },
    { type: FrameType.DETACH, corr: 8, subId: 1 },
    { type: FrameType.UNSUBSCRIBE, corr: 9, topic: 't', subscription: 's' },
    { type: FrameType.CONFIGURE_TOPIC, corr: 10, topic: 't', retainCount: MAX_U64, retainMs: 0 },
    { type: FrameType.DELETE_TOPIC, corr: 13, topic: 't' },
    { type: FrameType.QUERY, corr: 11, kind: 'stats', args: '' },
    { type: FrameType.QUERY, corr: 12, kind: 'topics', args: UNICODE },
    { type: FrameType.RESULT, corr: 11, json: JSON.stringify({ hub: UNICODE }) },
    { type: FrameType.RESULT, corr: 12, json: '' },
  ];
  for (const r of SERVICE_RANGES) {
    frames.push({ type: r.first, service: r.service, corr: 0, body: Buffer.alloc(0) });
    frames.push({ type: r.last, service: r.service, corr: MAX_U32, body: Buffer.from(UNICODE) });
  }
  return frames;
}
