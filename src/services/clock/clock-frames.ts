import { CorralError } from '../../protocol/corral-error.js';

/**
 * The farm clock's frames [P-12] in its range 0x90–0x9F. Times are float64
 * milliseconds since the Unix epoch (sub-millisecond, which a u64 of ms
 * could not carry).
 */
export const ClockFrame = {
  /** C→H: `clientTime` f64, echoed back. */
  TIME_REQUEST: 0x90,
  /** H→C: `clientTime` f64 (echo), `farmTime` f64, `errorBound` f64 (ms). */
  TIME_REPLY: 0x91,
} as const;

/** The resource every request names unless told otherwise; all clock resources tell the same time. */
export const FARM_CLOCK = 'clock|farm';

export interface TimeReply {
  clientTime: number;
  farmTime: number;
  errorBound: number;
}

export function encodeTimeRequest(clientTime: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(clientTime, 0);
  return b;
}

export function decodeTimeRequest(payload: Buffer): number {
  if (payload.length !== 8) throw new CorralError('BAD_FRAME', `TIME_REQUEST body must be 8 bytes, not ${payload.length}`);
  return payload.readDoubleBE(0);
}

export function encodeTimeReply(r: TimeReply): Buffer {
  const b = Buffer.allocUnsafe(24);
  b.writeDoubleBE(r.clientTime, 0);
  b.writeDoubleBE(r.farmTime, 8);
  b.writeDoubleBE(r.errorBound, 16);
  return b;
}

export function decodeTimeReply(payload: Buffer): TimeReply {
  if (payload.length !== 24) throw new CorralError('BAD_FRAME', `TIME_REPLY body must be 24 bytes, not ${payload.length}`);
  return { clientTime: payload.readDoubleBE(0), farmTime: payload.readDoubleBE(8), errorBound: payload.readDoubleBE(16) };
}
