import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import type { Transport } from '../src/client/transport.js';

/**
 * TCP with `minMs`–`maxMs` of random delay added to every chunk in each
 * direction (order kept), standing in for a network path whose delay varies
 * and is asymmetric, which is what limits an NTP-style estimate.
 */
export function jitterTransport(minMs: number, maxMs: number): Transport {
  return (address) => {
    const socket = connect({ host: address.host, port: address.port, noDelay: true });
    let outAt = 0;
    let inAt = 0;
    const delay = (last: number): number => Math.max(last, performance.now() + minMs + Math.random() * (maxMs - minMs));
    const later = (at: number, fn: () => void): void => { setTimeout(fn, Math.max(0, at - performance.now())); };
    const duplex: Duplex = new Duplex({
      write(chunk: Buffer, _enc, done) {
        outAt = delay(outAt);
        later(outAt, () => socket.write(chunk));
        done();
      },
      read() { /* pushed from the socket */ },
      final(done) {
        later(outAt, () => socket.end());
        done();
      },
      destroy(err, done) {
        socket.destroy();
        done(err);
      },
    });
    socket.on('data', (chunk: Buffer) => {
      inAt = delay(inAt);
      later(inAt, () => duplex.push(chunk));
    });
    socket.on('end', () => later(inAt, () => duplex.push(null)));
    socket.on('error', (err) => duplex.destroy(err));
    socket.on('close', () => later(inAt, () => duplex.destroy()));
    return duplex;
  };
}
