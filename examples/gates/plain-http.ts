/**
 * A small shop behind a gate, on plain `node:http`: at most GATE_LIMIT
 * visitors in the shop at once, the rest in the waiting room.
 *
 *   CORRAL_URL=corral://127.0.0.1:7400 WAITING_ROOM_SECRET=… node dist/examples/gates/plain-http.js
 *
 * GET / is the shop (let in, or the waiting page); GET /checkout-done ends the visit.
 */
import { createServer } from 'node:http';
import { connect, Gate, isCorralError, waitingRoom } from '../../src/client/index.js';

const client = await connect(process.env.CORRAL_URL ?? 'corral://127.0.0.1:7400');
const gate = Gate.open(client, process.env.GATE ?? 'shop');
await gate.create({ limit: Number(process.env.GATE_LIMIT ?? 100) }).catch((err: unknown) => {
  if (!isCorralError(err, 'GATE_EXISTS')) throw err;
});
const room = waitingRoom({ gate, secret: process.env.WAITING_ROOM_SECRET ?? 'change me: the same long secret on every web server' });

const server = createServer((req, res) => {
  room(req, res).then(async (admitted) => {
    if (!admitted) return;
    if (req.url === '/checkout-done') {
      await room.release(req);
      res.end('<!doctype html><h1 data-testid="done">Thank you</h1>');
      return;
    }
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><title>Shop</title><h1 data-testid="shop">Welcome to the shop</h1>');
  }).catch((err: unknown) => {
    res.statusCode = 503;
    res.end(`the waiting room is unavailable: ${(err as Error).message}`);
  });
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  const a = server.address();
  if (a && typeof a === 'object') process.stdout.write(`shop listening on http://127.0.0.1:${a.port}\n`);
});
