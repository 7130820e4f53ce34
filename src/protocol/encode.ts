import type { CorralError } from './corral-error.js';
import { ERROR_CODES } from './error-codes.js';
import { FrameType, serviceRangeOf } from './frame-type.js';
import type { Duplicate, Frame, StartPosition } from './frames.js';
import { size, WireWriter } from './wire-writer.js';

const START_KIND = { earliest: 0, latest: 1, seq: 2 } as const;

function startSeq(s: StartPosition): number {
  return s.kind === 'seq' ? s.seq : 0;
}

/** Encodes one frame, length prefix included [P-2.1]. Pure: no I/O. */
export function encodeFrame(f: Frame): Buffer {
  if ('service' in f) {
    if (!serviceRangeOf(f.type)) throw new RangeError(`frame type ${f.type} is not in a service range`);
    return new WireWriter(f.type, 4 + f.body.length).u32(f.corr).raw(f.body).finish();
  }
  switch (f.type) {
    case FrameType.HELLO:
      return new WireWriter(f.type, 2 + size.str(f.token) + size.str(f.client) + size.strList(f.features))
        .u16(f.version).str(f.token).str(f.client).strList(f.features).finish();
    case FrameType.WELCOME:
      return new WireWriter(f.type, 2 + size.str(f.hubId) + 4 + 4 + 2 + size.strList(f.features))
        .u16(f.version).str(f.hubId).u32(f.maxFrameBytes).u32(f.maxPayloadBytes).u16(f.maxSubscriptions)
        .strList(f.features).finish();
    case FrameType.PING:
    case FrameType.PONG:
      return new WireWriter(f.type, 4).u32(f.id).finish();
    case FrameType.GOODBYE:
      return new WireWriter(f.type, 2 + size.str(f.reason)).u16(f.code).str(f.reason).finish();
    case FrameType.ERROR:
      return new WireWriter(f.type, 4 + 4 + 2 + size.str(f.message))
        .u32(f.corr).u32(f.subId).u16(f.code).str(f.message).finish();
    case FrameType.OK:
      return new WireWriter(f.type, 4).u32(f.corr).finish();
    case FrameType.REDIRECT:
      return new WireWriter(f.type, 4 + size.str(f.topic) + size.str(f.hubId) + size.str(f.address) + 8)
        .u32(f.corr).str(f.topic).str(f.hubId).str(f.address).u64(f.epoch).finish();
    case FrameType.PUBLISH:
      return encodePublish(f.corr, f.topic, f.payload, f.key, f.producerId, f.producerSeq, f.afterSeq);
    case FrameType.PUBLISH_ACK:
      return encodePublishAck(f.corr, f.seq, f.duplicate);
    case FrameType.SUBSCRIBE:
      return new WireWriter(f.type, 4 + 4 + size.str(f.topic) + size.str(f.subscription) + 1 + 8 + 4)
        .u32(f.corr).u32(f.subId).str(f.topic).str(f.subscription)
        .u8(START_KIND[f.start.kind]).u64(startSeq(f.start)).u32(f.credit).finish();
    case FrameType.SUBSCRIBED:
      return new WireWriter(f.type, 4 + 4 + 8 + 8).u32(f.corr).u32(f.subId).u64(f.ackedSeq).u64(f.lastSeq).finish();
    case FrameType.DELIVER:
      return encodeDeliver(f.subId, f.seq, f.timestamp, f.key, f.payload);
    case FrameType.CREDIT:
      return new WireWriter(f.type, 8).u32(f.subId).u32(f.credit).finish();
    case FrameType.ACK:
      return encodeAck(f.subId, f.seq);
    case FrameType.DETACH:
      return new WireWriter(f.type, 8).u32(f.corr).u32(f.subId).finish();
    case FrameType.UNSUBSCRIBE:
      return new WireWriter(f.type, 4 + size.str(f.topic) + size.str(f.subscription))
        .u32(f.corr).str(f.topic).str(f.subscription).finish();
    case FrameType.CONFIGURE_TOPIC:
      return new WireWriter(f.type, 4 + size.str(f.topic) + 8 + 8)
        .u32(f.corr).str(f.topic).u64(f.retainCount).u64(f.retainMs).finish();
    case FrameType.DELETE_TOPIC:
      return new WireWriter(f.type, 4 + size.str(f.topic)).u32(f.corr).str(f.topic).finish();
    case FrameType.QUERY:
      return new WireWriter(f.type, 4 + size.str(f.kind) + size.bytes(Buffer.from(f.args)))
        .u32(f.corr).str(f.kind).bytes(Buffer.from(f.args)).finish();
    case FrameType.RESULT: {
      const json = Buffer.from(f.json);
      return new WireWriter(f.type, 4 + size.bytes(json)).u32(f.corr).bytes(json).finish();
    }
  }
}

// The three hot frames have direct encoders so senders skip building an object.

/** `afterSeq` only to a hub that granted PUBLISH_ORDER_FEATURE [P-4.6]. */
export function encodePublish(
  corr: number, topic: string, payload: Uint8Array, key?: Uint8Array, producerId?: string, producerSeq = 0, afterSeq?: number,
): Buffer {
  const pid = producerId ?? '';
  const w = new WireWriter(FrameType.PUBLISH, 4 + size.str(topic) + size.optBytes(key) + size.str(pid) + 8 + size.bytes(payload) + (afterSeq === undefined ? 0 : 8))
    .u32(corr).str(topic).optBytes(key).str(pid).u64(producerSeq).bytes(payload);
  return (afterSeq === undefined ? w : w.u64(afterSeq)).finish();
}

export function encodePublishAck(corr: number, seq: number, duplicate: Duplicate): Buffer {
  return new WireWriter(FrameType.PUBLISH_ACK, 13).u32(corr).u64(seq).u8(duplicate).finish();
}

export function encodeDeliver(subId: number, seq: number, timestamp: number, key: Uint8Array | undefined, payload: Uint8Array): Buffer {
  return new WireWriter(FrameType.DELIVER, 4 + 8 + 8 + size.optBytes(key) + size.bytes(payload))
    .u32(subId).u64(seq).u64(timestamp).optBytes(key).bytes(payload).finish();
}

export function encodeAck(subId: number, seq: number): Buffer {
  return new WireWriter(FrameType.ACK, 12).u32(subId).u64(seq).finish();
}

/**
 * Longest ERROR message sent, in characters. Messages quote what the client
 * sent (a topic, a resource, a query kind), which may itself be 64 KiB: quoted
 * whole, the message would not fit the 16-bit string length [P-2.2] and the
 * encoder would throw in place of refusing the request.
 */
export const MAX_ERROR_MESSAGE_CHARS = 1024;

/** The ERROR frame for `err`, its message cut to MAX_ERROR_MESSAGE_CHARS. */
export function encodeError(corr: number, subId: number, err: CorralError): Buffer {
  const message = err.message.length > MAX_ERROR_MESSAGE_CHARS ? `${err.message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : err.message;
  return encodeFrame({ type: FrameType.ERROR, corr, subId, code: ERROR_CODES[err.code].wire, message });
}
