import { PAYLOAD } from './payload.js';

/** The workload payload with message number `n` in its first 4 bytes, so consumers can tell messages apart. */
export function numberedPayload(n: number): Buffer {
  const payload = Buffer.from(PAYLOAD);
  payload.writeUInt32BE(n, 0);
  return payload;
}

/** The number `numberedPayload` wrote. */
export function messageNumber(payload: Uint8Array): number {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).readUInt32BE(0);
}
