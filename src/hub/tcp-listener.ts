import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Hub } from './hub.js';
import { listen } from './listen.js';

/** The hub's certificate chain and private key, PEM (`corral start --tls-cert/--tls-key`). */
export interface TlsIdentity {
  cert: Buffer;
  key: Buffer;
}

/**
 * The TCP side of the hub: every accepted socket becomes a session. With a
 * TLS identity the port speaks TLS only (`corrals://`), so a credential never
 * crosses the network in the clear on it.
 */
export async function listenTcp(hub: Hub, host: string, port: number, tls?: TlsIdentity): Promise<Server> {
  const accept = (socket: Socket | TLSSocket): void => {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    hub.accept(socket);
  };
  // highWaterMark 0: Node reads a socket only when the session asks (one read
  // of up to 64 KiB each time), never ahead into a buffer of its own; see
  // ClientSession.readInput. Writes are unaffected: the session counts them by
  // their callbacks. (A TLS socket keeps Node's default: its server has no such option.)
  const server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }, accept) : createServer({ noDelay: true, highWaterMark: 0 }, accept);
  await listen(server, host, port);
  return server;
}
