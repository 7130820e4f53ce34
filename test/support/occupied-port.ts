import { createServer, type Server } from 'node:net';

/** A port on 127.0.0.1 held by a listening server until the caller closes it. */
export async function occupiedPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}
