import { connect, type Socket } from 'node:net';
import type { CorralError } from '../../src/protocol/corral-error.js';
import { encodeFrame } from '../../src/protocol/encode.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import { PROTOCOL_VERSION, type Frame } from '../../src/protocol/frames.js';
import { PATIENCE_MS } from './eventually.js';

/**
 * A bare protocol connection for hub tests: sends exactly the bytes a test
 * asks for and records every frame the hub sends back, with no client-library
 * logic in between.
 */
export class RawConnection {
  readonly frames: Frame[] = [];
  closed = false;
  /** Sees every frame first; return false to not keep it in `frames` (large streams). */
  keep: (f: Frame) => boolean = () => true;
  private waiters: Array<() => void> = [];
  private pings = 0;

  private constructor(readonly socket: Socket) {
    const decoder = new FrameDecoder({
      frame: (f) => { if (this.keep(f)) this.frames.push(f); this.wake(); },
      badFrame: (err: CorralError) => { throw err; },
      fatal: (err: CorralError) => { throw err; },
    }, 64 * 1024 * 1024);
    socket.on('data', (d: Buffer) => decoder.push(d));
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  /** Opens and completes the handshake. */
  static async hello(port: number, token = ''): Promise<RawConnection> {
    const c = await RawConnection.open(port);
    c.send({ type: FrameType.HELLO, version: PROTOCOL_VERSION, token, client: 'raw-test', features: [] });
    await c.waitFor((f) => f.type === FrameType.WELCOME || f.type === FrameType.ERROR);
    return c;
  }

  send(f: Frame): void {
    this.socket.write(encodeFrame(f));
  }

  sendBytes(b: Uint8Array): void {
    this.socket.write(b);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** Waits until a frame (received at any time) matches; returns it. */
  async waitFor<T extends Frame>(pred: (f: Frame) => f is T, timeoutMs?: number): Promise<T>;
  async waitFor(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  async waitFor(pred: (f: Frame) => boolean, timeoutMs = PATIENCE_MS): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(pred);
      if (found) return found;
      if (this.closed) throw new Error(`connection closed; frames so far: ${JSON.stringify(this.frames.map((f) => f.type))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame; got types ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Waits until `n` frames match. */
  async waitForCount(pred: (f: Frame) => boolean, n: number, timeoutMs = 2 * PATIENCE_MS): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.frames.filter(pred);
      if (got.length >= n) return got;
      if (this.closed) throw new Error(`connection closed after ${got.length}/${n} frames`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${got.length}/${n} frames`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /**
   * PING and wait for its PONG: the hub answers frames of a connection in
   * order, so every frame it wrote to this connection before is in `frames`.
   */
  async roundTrip(timeoutMs = 10_000): Promise<void> {
    const id = ++this.pings;
    this.send({ type: FrameType.PING, id });
    await this.waitFor((f) => f.type === FrameType.PONG && 'id' in f && f.id === id, timeoutMs);
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection did not close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
