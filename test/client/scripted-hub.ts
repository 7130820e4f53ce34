import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame } from '../../src/protocol/encode.js';
import { ERROR_CODES, type ErrorCode } from '../../src/protocol/error-codes.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import {
  Duplicate, PROTOCOL_VERSION, type AckFrame, type Frame, type PublishFrame, type RedirectFrame, type SubscribeFrame,
} from '../../src/protocol/frames.js';

/**
 * A protocol peer that completes the handshake and answers every later
 * frame with what `answer` returns. It plays the cluster behaviours a
 * standalone hub never shows (REDIRECT, NOT_OWNER, a topic handed over,
 * silence) over a real socket.
 */
export class ScriptedHub {
  readonly received: Frame[] = [];
  /** A hung hub (SIGSTOP): connections are still accepted, nothing is read or answered, HELLO included. */
  frozen = false;
  private readonly sockets = new Set<Socket>();
  private readonly byConnection = new Map<number, Socket>();

  private constructor(private readonly server: Server, readonly port: number) {}

  /** `connection` counts the hub's connections from 1; `socket` lets a script drop one; `features`: what WELCOME grants. */
  static async start(answer: (f: Frame, hub: ScriptedHub, connection: number, socket: Socket) => Frame[], features: string[] = []): Promise<ScriptedHub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const hub = new ScriptedHub(server, port);
    let connections = 0;
    server.on('connection', (socket) => {
      const connection = ++connections;
      hub.sockets.add(socket);
      hub.byConnection.set(connection, socket);
      socket.on('close', () => {
        hub.sockets.delete(socket);
        hub.byConnection.delete(connection);
      });
      socket.on('error', () => undefined);
      const decoder = new FrameDecoder({
        frame: (f) => {
          if (hub.frozen) return;
          if (!('service' in f) && f.type === FrameType.HELLO) {
            socket.write(encodeFrame({
              type: FrameType.WELCOME, version: PROTOCOL_VERSION, hubId: `scripted-${port}`,
              maxFrameBytes: 1024 * 1024, maxPayloadBytes: 1000, maxSubscriptions: 10, features,
            }));
            return;
          }
          hub.received.push(f);
          const replies = answer(f, hub, connection, socket);
          if (replies.length > 0 && !socket.destroyed) socket.write(Buffer.concat(replies.map((r) => encodeFrame(r))));
        },
        badFrame: (err) => { throw err; },
        fatal: (err) => { throw err; },
      }, 1024 * 1024);
      socket.on('data', (d: Buffer) => decoder.push(d));
    });
    return hub;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `corral://${this.address}`;
  }

  /** Sends frames nobody asked for (an unsolicited REDIRECT, an attachment-ending ERROR) on one connection, in one write. */
  send(connection: number, ...frames: Frame[]): void {
    const socket = this.byConnection.get(connection);
    if (socket === undefined) throw new Error(`scripted hub ${this.address} has no connection ${connection}`);
    socket.write(Buffer.concat(frames.map((f) => encodeFrame(f))));
  }

  publishes(): PublishFrame[] {
    return this.received.filter(isPublish);
  }

  subscribes(): SubscribeFrame[] {
    return this.received.filter((f): f is SubscribeFrame => !('service' in f) && f.type === FrameType.SUBSCRIBE);
  }

  acks(): AckFrame[] {
    return this.received.filter((f): f is AckFrame => !('service' in f) && f.type === FrameType.ACK);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function isPublish(f: Frame): f is PublishFrame {
  return !('service' in f) && f.type === FrameType.PUBLISH;
}

export function ack(f: PublishFrame, seq: number): Frame {
  return { type: FrameType.PUBLISH_ACK, corr: f.corr, seq, duplicate: Duplicate.NO };
}

/** ERROR refusing request `corr`, or with corr 0 and a `subId`, ending that attachment [P-5.9]. */
export function error(corr: number, code: ErrorCode, subId = 0): Frame {
  return { type: FrameType.ERROR, corr, subId, code: ERROR_CODES[code].wire, message: `scripted ${code}` };
}

/** REDIRECT to `owner`; corr 0 is the unsolicited one a handoff sends [P-6.4]. */
export function redirect(corr: number, topic: string, owner: ScriptedHub, epoch: number): RedirectFrame {
  return { type: FrameType.REDIRECT, corr, topic, hubId: `scripted-${owner.port}`, address: owner.address, epoch };
}

export function deliver(subId: number, seq: number): Frame {
  return { type: FrameType.DELIVER, subId, seq, timestamp: 1, key: undefined, payload: Buffer.from(`m${seq}`) };
}
