import { createServer, type Server } from 'node:net';
import type { Hub } from './hub.js';
import { listen } from './listen.js';

/** The TCP side of the hub: every accepted socket becomes a session. */
export async function listenTcp(hub: Hub, host: string, port: number): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.setKeepAlive(true, 30_000);
    hub.accept(socket);
  });
  await listen(server, host, port);
  return server;
}
