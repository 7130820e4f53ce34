import { randomBytes } from 'node:crypto';
import { PAYLOAD_BYTES } from './limits.js';

/** Random bytes, so no system gains from compressible messages. */
export const PAYLOAD: Uint8Array = randomBytes(PAYLOAD_BYTES);
