import type { Duplex } from 'node:stream';
import type { CorralError } from '../protocol/corral-error.js';
import { encodeError } from '../protocol/encode.js';
import type { HubMetrics } from './hub-metrics.js';

/** How long a refused peer has to read the ERROR before the stream is destroyed. */
const REFUSAL_GRACE_MS = 1000;

/**
 * Answers a connection the hub will not serve (CONNECTION_LIMIT) with one
 * ERROR frame in place of WELCOME [P-1.2], and closes it without reading a
 * byte of it, so a refusal costs the hub no session and no buffer.
 */
export function refuseConnection(stream: Duplex, err: CorralError, metrics: HubMetrics): void {
  metrics.errors.inc({ code: err.code });
  stream.on('error', () => undefined);
  stream.end(encodeError(0, 0, err));
  setTimeout(() => stream.destroy(), REFUSAL_GRACE_MS).unref();
}
