import { CorralError } from './corral-error.js';
import { FrameType, serviceRangeOf } from './frame-type.js';
import { Duplicate, type Frame, type PublishFrame, type StartPosition } from './frames.js';
import { WireReader } from './wire-reader.js';

function readStart(r: WireReader): StartPosition {
  const kind = r.u8();
  const seq = r.u64();
  switch (kind) {
    case 0: return { kind: 'earliest' };
    case 1: return { kind: 'latest' };
    case 2: return { kind: 'seq', seq };
    default: throw new CorralError('INVALID_ARGUMENT', `unknown start position kind ${kind}`);
  }
}

function readDuplicate(r: WireReader): Duplicate {
  const d = r.u8();
  if (d === Duplicate.NO || d === Duplicate.YES || d === Duplicate.ORIGINAL_UNKNOWN) return d;
  throw new CorralError('BAD_FRAME', `unknown PUBLISH_ACK duplicate value ${d}`);
}

/**
 * Decodes the body of one frame whose bytes are buf[start, end). Byte slices in
 * the result (payload, key, body) are views into `buf`, not copies.
 * Throws CorralError (BAD_FRAME, UNKNOWN_FRAME_TYPE, INVALID_ARGUMENT).
 */
export function decodeBody(type: number, buf: Buffer, start: number, end: number): Frame {
  const r = new WireReader(buf, start, end);
  let f: Frame;
  switch (type) {
    case FrameType.HELLO:
      f = { type, version: r.u16(), token: r.str(), client: r.str(), features: r.strList() };
      break;
    case FrameType.WELCOME:
      f = { type, version: r.u16(), hubId: r.str(), maxFrameBytes: r.u32(), maxPayloadBytes: r.u32(), maxSubscriptions: r.u16(), features: r.strList() };
      break;
    case FrameType.PING:
      f = { type, id: r.u32() };
      break;
    case FrameType.PONG:
      f = { type, id: r.u32() };
      break;
    case FrameType.GOODBYE:
      f = { type, code: r.u16(), reason: r.str() };
      break;
    case FrameType.ERROR:
      f = { type, corr: r.u32(), subId: r.u32(), code: r.u16(), message: r.str() };
      break;
    case FrameType.OK:
      f = { type, corr: r.u32() };
      break;
    case FrameType.REDIRECT:
      f = { type, corr: r.u32(), topic: r.str(), hubId: r.str(), address: r.str(), epoch: r.u64() };
      break;
    case FrameType.PUBLISH: {
      const corr = r.u32();
      const topic = r.str();
      const key = r.optBytes();
      const pid = r.str();
      const producerSeq = r.u64();
      const publish: PublishFrame = { type, corr, topic, key, producerId: pid === '' ? undefined : pid, producerSeq, payload: r.bytes() };
      // [P-4.6] the field a client granted publish-order adds at the end.
      if (r.more()) publish.afterSeq = r.u64();
      f = publish;
      break;
    }
    case FrameType.PUBLISH_ACK:
      f = { type, corr: r.u32(), seq: r.u64(), duplicate: readDuplicate(r) };
      break;
    case FrameType.SUBSCRIBE:
      f = { type, corr: r.u32(), subId: r.u32(), topic: r.str(), subscription: r.str(), start: readStart(r), credit: r.u32() };
      break;
    case FrameType.SUBSCRIBED:
      f = { type, corr: r.u32(), subId: r.u32(), ackedSeq: r.u64(), lastSeq: r.u64() };
      break;
    case FrameType.DELIVER:
      f = { type, subId: r.u32(), seq: r.u64(), timestamp: r.u64(), key: r.optBytes(), payload: r.bytes() };
      break;
    case FrameType.CREDIT:
      f = { type, subId: r.u32(), credit: r.u32() };
      break;
    case FrameType.ACK:
      f = { type, subId: r.u32(), seq: r.u64() };
      break;
    case FrameType.DETACH:
      f = { type, corr: r.u32(), subId: r.u32() };
      break;
    case FrameType.UNSUBSCRIBE:
      f = { type, corr: r.u32(), topic: r.str(), subscription: r.str() };
      break;
    case FrameType.CONFIGURE_TOPIC:
      f = { type, corr: r.u32(), topic: r.str(), retainCount: r.u64(), retainMs: r.u64() };
      break;
    case FrameType.DELETE_TOPIC:
      f = { type, corr: r.u32(), topic: r.str() };
      break;
    case FrameType.QUERY:
      f = { type, corr: r.u32(), kind: r.str(), args: r.bytes().toString('utf8') };
      break;
    case FrameType.RESULT:
      f = { type, corr: r.u32(), json: r.bytes().toString('utf8') };
      break;
    default: {
      const range = serviceRangeOf(type);
      if (!range) throw new CorralError('UNKNOWN_FRAME_TYPE', `unknown frame type 0x${type.toString(16)}`);
      return { type, service: range.service, corr: r.u32(), body: r.rest() };
    }
  }
  r.done();
  return f;
}

/** The correlation id of a frame body, or 0: lets an error reply name the request it refuses. */
export function peekCorr(type: number, buf: Buffer, start: number, end: number): number {
  const hasCorr = type === FrameType.PUBLISH || type === FrameType.SUBSCRIBE || type === FrameType.DETACH
    || type === FrameType.UNSUBSCRIBE || type === FrameType.CONFIGURE_TOPIC || type === FrameType.DELETE_TOPIC || type === FrameType.QUERY
    || serviceRangeOf(type) !== undefined;
  return hasCorr && end - start >= 4 ? buf.readUInt32BE(start) : 0;
}
