import type { ServiceFrame } from './frames.js';
import { serviceRangeOf } from './frame-type.js';
import { size, WireWriter } from './wire-writer.js';
import { WireReader } from './wire-reader.js';

/**
 * A service frame with its resource [P-11.1]: the envelope's body starts
 * with the resource the frame is about (`<kind>|<name>`), so the hub routes,
 * redirects and fences it without knowing the service; `payload` is the
 * service's own encoding.
 */
export interface ServiceMessage {
  type: number;
  corr: number;
  resource: string;
  payload: Buffer;
}

/** Encodes a whole frame, length prefix included. */
export function encodeServiceMessage(m: ServiceMessage): Buffer {
  if (!serviceRangeOf(m.type)) throw new RangeError(`frame type ${m.type} is not in a service range`);
  return new WireWriter(m.type, 4 + size.str(m.resource) + m.payload.length)
    .u32(m.corr).str(m.resource).raw(m.payload).finish();
}

/** Reads the resource out of a decoded service frame; BAD_FRAME when the body is too short for it. */
export function decodeServiceMessage(f: ServiceFrame): ServiceMessage {
  const r = new WireReader(f.body, 0, f.body.length);
  const resource = r.str();
  return { type: f.type, corr: f.corr, resource, payload: r.rest() };
}
