import { Duplex } from 'node:stream';

/**
 * Two ends of an in-memory byte stream: what one end writes, the other
 * reads; destroying or ending one ends the other. Node 20 has no
 * `stream.duplexPair` (added in 22.6). The hub serves one end as a client
 * connection (`Hub.loopback`), so a service can be a client of its own
 * cluster — a counter branch linking to its parent — without a socket.
 */
export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (i: number): Duplex => new Duplex({
    allowHalfOpen: false,
    read() { /* pushed by the other end's writes */ },
    write(chunk: Buffer, _enc, cb) {
      ends[1 - i]!.push(chunk);
      cb();
    },
    final(cb) {
      ends[1 - i]!.push(null);
      cb();
    },
    destroy(err, cb) {
      const other = ends[1 - i]!;
      if (!other.destroyed) other.destroy();
      cb(err);
    },
  });
  ends.push(make(0), make(1));
  return [ends[0]!, ends[1]!];
}
