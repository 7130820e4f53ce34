import { encodeFrame } from '../../src/protocol/encode.js';
import type { Frame } from '../../src/protocol/frames.js';
import type { RawConnection } from './raw-connection.js';

/**
 * Makes a connection that completed HELLO send frames over and over and
 * never read again. `next(i)` is the i-th frame (from 0). Writes as fast as
 * the socket takes them; `written()` counts the bytes handed to the socket.
 */
export function flood(conn: RawConnection, next: (i: number) => Frame): { written: () => number } {
  conn.socket.pause();
  let i = 0;
  let written = 0;
  const more = (): void => {
    while (!conn.closed && !conn.socket.destroyed) {
      const batch = Buffer.concat(Array.from({ length: 200 }, () => encodeFrame(next(i++))));
      written += batch.length;
      if (!conn.socket.write(batch)) {
        conn.socket.once('drain', more);
        return;
      }
    }
  };
  more();
  return { written: () => written };
}
