import { encodeFrame } from '../../src/protocol/encode.js';
import type { Frame } from '../../src/protocol/frames.js';
import type { RawConnection } from './raw-connection.js';

const BATCH = 200;

/**
 * Makes a connection that completed HELLO send frames over and over, as fast
 * as its socket takes them, and never read again. `frames` is one frame sent
 * each time, or the i-th frame (from 0). Stops after `maxBytes`, if given.
 * `written()` counts the bytes handed to the socket.
 */
export function flood(conn: RawConnection, frames: Frame | ((i: number) => Frame), maxBytes = Infinity): { written: () => number } {
  conn.socket.pause();
  const same = typeof frames === 'function' ? undefined : Buffer.concat(Array.from({ length: BATCH }, () => encodeFrame(frames)));
  let i = 0;
  let written = 0;
  const more = (): void => {
    while (!conn.closed && !conn.socket.destroyed && written < maxBytes) {
      const batch = same ?? Buffer.concat(Array.from({ length: BATCH }, () => encodeFrame((frames as (i: number) => Frame)(i++))));
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
