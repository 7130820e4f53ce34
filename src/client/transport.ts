import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HubAddress } from '../protocol/hub-url.js';

/**
 * Opens the byte stream to one hub [P-1.1]. The client writes HELLO at once,
 * so the stream must buffer writes until it is connected (net.Socket does).
 * The seam lets tests and other transports (WebSocket) carry the same frames.
 */
export type Transport = (address: HubAddress) => Duplex;

export const tcpTransport: Transport = (address) => connect({ host: address.host, port: address.port, noDelay: true });
