import { connect, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { HubAddress } from '../protocol/hub-url.js';

/**
 * Opens the byte stream to one hub [P-1.1]. The client writes HELLO at once,
 * so the stream must buffer writes until it is connected (net.Socket does).
 * The seam lets tests and other transports (WebSocket) carry the same frames.
 */
export type Transport = (address: HubAddress) => Duplex;

export interface ClientTlsOptions {
  /** CA certificates (PEM) the hubs' certificates must chain to; default Node's bundled CAs. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Name to check the certificate against, when it differs from the address's host. */
  servername?: string;
}

export const tcpTransport: Transport = (address) => connect({ host: address.host, port: address.port, noDelay: true });

/**
 * TLS to every hub (`corrals://`): the certificate must chain to `ca` and name
 * the host (its IP address, for an address given as one).
 */
export function tlsTransport(opts: ClientTlsOptions = {}): Transport {
  return (address) => {
    const socket = connectTls({
      host: address.host, port: address.port, ca: opts.ca,
      servername: opts.servername ?? (isIP(address.host) ? undefined : address.host),
    });
    socket.setNoDelay(true);
    return socket;
  };
}
