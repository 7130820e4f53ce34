import type { Duplex } from 'node:stream';
import { CorralError } from '../protocol/corral-error.js';
import { encodeFrame } from '../protocol/encode.js';
import { errorCodeFromWire } from '../protocol/error-codes.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { FrameType } from '../protocol/frame-type.js';
import {
  PROTOCOL_VERSION, type DeliverFrame, type ErrorFrame, type Frame, type OkFrame, type PublishAckFrame, type RedirectFrame,
  type ResultFrame, type ServiceFrame, type SubscribedFrame, type WelcomeFrame,
} from '../protocol/frames.js';
import { formatHostPort, type HubAddress } from '../protocol/hub-url.js';
import type { Transport } from './transport.js';

/** Frames that answer a request successfully [P-1.5]; a service frame answers a service request [P-11.1]. */
export type ReplyFrame = PublishAckFrame | SubscribedFrame | OkFrame | ResultFrame | ServiceFrame;

/** A request as a connection sees it: encodable under whatever corr the connection assigns. */
export interface OutgoingRequest {
  corr: number;
  /** `features`: those the hub granted this connection [P-1.4]. */
  encode(corr: number, features: ReadonlySet<string>): Buffer;
  /** Its frame was handed to the transport (it may reach the hub even if the connection then fails). */
  written(): void;
}

/** Writes frames that are not requests (ACK, CREDIT) into the connection's next coalesced write. */
export interface ControlWriter {
  writeControl(channel: ControlChannel): void;
}

/** The part of a connection an attached subscription uses. */
export interface ControlChannel {
  readonly isOpen: boolean;
  write(buf: Buffer): void;
  queueControl(w: ControlWriter): void;
}

/** Where a connection reports what arrives; the client decides what it means. */
export interface ConnectionOwner<R extends OutgoingRequest> {
  reply(conn: HubConnection<R>, req: R, frame: ReplyFrame): void;
  /** ERROR with the request's corr. */
  refused(conn: HubConnection<R>, req: R, err: CorralError): void;
  redirected(conn: HubConnection<R>, req: R, frame: RedirectFrame): void;
  /** REDIRECT with corr 0: the hub handed the topic to another owner [P-6.4]. */
  rerouted(conn: HubConnection<R>, frame: RedirectFrame): void;
  delivered(conn: HubConnection<R>, frame: DeliverFrame): void;
  /** A service frame that answers no request: pushed by the hub [P-11.1]. */
  pushed(conn: HubConnection<R>, frame: ServiceFrame): void;
  /** ERROR with a subId: that attachment ended [P-5.9]. */
  attachmentEnded(conn: HubConnection<R>, subId: number, err: CorralError): void;
  /** An ERROR that answers no request and ends no attachment, or a frame the client cannot use. */
  unsolicited(conn: HubConnection<R>, err: CorralError): void;
  /** The open connection closed; `inFlight` are the requests still unanswered, in the order they were sent. */
  closed(conn: HubConnection<R>, err: CorralError, inFlight: R[]): void;
}

export interface ConnectionSettings {
  transport: Transport;
  token: string;
  name: string;
  /** Requested in HELLO [P-1.4]. */
  features: readonly string[];
  connectTimeoutMs: number;
  /** Time without a frame from the hub after which a PING checks it is alive [P-1.6]. */
  pingIntervalMs: number;
  /**
   * A hub that sends nothing for this long after a PING, or no WELCOME this
   * long after the transport connected, is taken as hung: the connection
   * closes and what was in flight on it goes elsewhere.
   */
  pingTimeoutMs: number;
}

/** Hub frames are bounded by the hub's own limit; this only stops a garbage length prefix from buffering without end. */
const MAX_INBOUND_FRAME_BYTES = 64 * 1024 * 1024;
const CLOSE_GRACE_MS = 2000;

/**
 * One socket to one hub: handshake [P-1.2], framing [P-2.1], the corr → request
 * map [P-1.5], keepalive [P-1.6] and write coalescing (every frame queued in
 * one event-loop turn leaves in a single socket write).
 */
export class HubConnection<R extends OutgoingRequest> implements ControlChannel {
  readonly key: string;
  welcome: WelcomeFrame | undefined;
  /** The features the hub granted [P-1.4]. */
  private granted: ReadonlySet<string> = new Set();
  private state: 'new' | 'handshake' | 'open' | 'closing' | 'closed' = 'new';
  private socket: Duplex | undefined;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, R>();
  private nextCorr = 1;
  private corrWrapped = false;
  private out: Buffer[] = [];
  private outBytes = 0;
  /** Requests whose frames are in `out`. */
  private outRequests: R[] = [];
  private control: ControlWriter[] = [];
  private flushQueued = false;
  private waitingDrain = false;
  /** Date.now() of the last bytes from the hub. */
  private lastReceived = 0;
  /** Date.now() of the PING awaiting an answer; 0 when none is. */
  private pingSentAt = 0;
  /** The hub stopped answering (keepalive or handshake timeout), as opposed to closing. */
  unresponsive = false;
  private timer: NodeJS.Timeout | undefined;
  private closeError: CorralError | undefined;
  private handshake: { resolve: (w: WelcomeFrame) => void; reject: (err: CorralError) => void } | undefined;
  private readonly closeWaiters: Array<() => void> = [];

  constructor(
    readonly address: HubAddress,
    private readonly settings: ConnectionSettings,
    private readonly owner: ConnectionOwner<R>,
  ) {
    this.key = formatHostPort(address);
    this.decoder = new FrameDecoder({
      frame: (f) => this.frame(f),
      badFrame: (err) => this.owner.unsolicited(this, err),
      fatal: (err) => this.destroy(this.state !== 'handshake' ? err
        : new CorralError('NOT_A_HUB', `${this.key} did not answer with the Corral protocol (${err.message}); is it a hub's protocol port?`)),
    }, MAX_INBOUND_FRAME_BYTES);
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Connects and completes the handshake; rejects with the hub's ERROR (UNAUTHORIZED, …) or CONNECTION_CLOSED. */
  open(): Promise<WelcomeFrame> {
    if (this.state !== 'new') return Promise.reject(new Error('HubConnection.open() called twice'));
    this.state = 'handshake';
    return new Promise((resolve, reject) => {
      this.handshake = { resolve, reject };
      const socket = this.settings.transport(this.address);
      this.socket = socket;
      socket.on('data', (chunk: Buffer) => {
        // An HTTP server (a hub's admin port) answers HELLO with "HTTP/1.1 400": say so rather than FRAME_TOO_LARGE.
        if (this.state === 'handshake' && this.lastReceived === 0 && chunk.subarray(0, 5).toString('latin1') === 'HTTP/') {
          this.destroy(new CorralError('NOT_A_HUB', `${this.key} answered with HTTP, not the Corral protocol: is it a hub's admin port? `
            + `Use the hub's protocol port (corral://host:port, printed when the hub starts; 7400 by default)`));
          return;
        }
        this.lastReceived = Date.now();
        this.decoder.push(chunk);
      });
      // A live hub answers HELLO as soon as it reads it: once connected, a
      // WELCOME that does not come within the keepalive timeout means a hung
      // hub (its kernel still accepts connections), not a slow network.
      socket.once('connect', () => {
        if (this.state !== 'handshake') return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.hung(`hub ${this.key} accepted the connection but sent no WELCOME within ${this.settings.pingTimeoutMs} ms`),
          this.settings.pingTimeoutMs);
      });
      socket.on('drain', () => {
        this.waitingDrain = false;
        this.flush();
      });
      socket.on('error', (err: Error) => {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (isTlsFailure(code, err.message)) {
          this.closeError ??= new CorralError('TLS_FAILED', `TLS with hub ${this.key} failed: ${err.message} (${code}); `
            + 'the hub must serve TLS (corrals://) with a certificate for this address that chains to a CA the client trusts (tls.ca, corral --ca)', { cause: err });
          return;
        }
        const refused = code === 'ECONNREFUSED';
        this.closeError ??= new CorralError('CONNECTION_CLOSED', refused
          ? `connection refused by ${this.key}: is a hub running at corral://${this.key}?`
          : `connection to hub ${this.key} failed: ${err.message}`, { cause: err });
      });
      socket.on('close', () => this.teardown());
      socket.write(encodeFrame({
        type: FrameType.HELLO, version: PROTOCOL_VERSION, token: this.settings.token, client: this.settings.name, features: [...this.settings.features],
      }));
      this.timer = setTimeout(() => {
        this.destroy(new CorralError('TIMEOUT', `hub ${this.key} did not complete the handshake within ${this.settings.connectTimeoutMs} ms`));
      }, this.settings.connectTimeoutMs);
    });
  }

  /** Sends a request under a fresh corr. */
  send(req: R): void {
    const corr = this.allocCorr();
    req.corr = corr;
    this.pending.set(corr, req);
    this.write(req.encode(corr, this.granted));
    this.outRequests.push(req);
  }

  /** Drops a request the client gave up on (timeout); a late reply is then ignored. */
  forget(req: R): void {
    if (this.pending.get(req.corr) === req) this.pending.delete(req.corr);
  }

  /** Requests in flight here that match. */
  countInFlight(match: (req: R) => boolean): number {
    let n = 0;
    for (const r of this.pending.values()) if (match(r)) n++;
    return n;
  }

  /** Queues a frame for this turn's write. */
  write(buf: Buffer): void {
    this.out.push(buf);
    this.outBytes += buf.length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flush);
    }
  }

  /** Asks `w` to add its control frames to this turn's write. */
  queueControl(w: ControlWriter): void {
    this.control.push(w);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    if (this.state !== 'open') {
      this.flushQueued = false;
      return;
    }
    if (this.control.length > 0) {
      const control = this.control;
      this.control = [];
      for (const w of control) w.writeControl(this);
    }
    this.flushQueued = false;
    if (this.waitingDrain || this.out.length === 0) return;
    const chunk = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    const requests = this.outRequests;
    this.out = [];
    this.outBytes = 0;
    this.outRequests = [];
    if (!this.socket!.write(chunk)) this.waitingDrain = true;
    for (const r of requests) r.written();
  };

  /** Drops frames queued and not yet written: their requests were settled without them (the client is closing). */
  discardQueued(): void {
    this.out = [];
    this.outBytes = 0;
    this.outRequests = [];
  }

  /** GOODBYE, then close after what is queued has been written [P-1.6]. */
  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (this.state === 'closing') return done;
    this.closeError ??= new CorralError('CLIENT_CLOSED', 'the client closed the connection');
    const socket = this.socket;
    if (socket === undefined) {
      this.teardown();
      return done;
    }
    if (this.state === 'open') {
      // The last write: what is queued (acks), then GOODBYE; the stream buffers past a full kernel buffer.
      this.waitingDrain = false;
      this.flush();
      this.state = 'closing';
      socket.end(encodeFrame({ type: FrameType.GOODBYE, code: 0, reason: 'client closing' }));
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    } else {
      this.state = 'closing';
      socket.destroy();
    }
    return done;
  }

  /** Closes at once; the owner learns of it through `closed`. */
  destroy(err: CorralError): void {
    this.closeError ??= err;
    this.socket?.destroy();
  }

  private allocCorr(): number {
    for (;;) {
      const corr = this.nextCorr;
      // [P-1.5] corr is a non-zero u32; after wrapping, skip ids still in use.
      if (corr === 0xffffffff) {
        this.nextCorr = 1;
        this.corrWrapped = true;
      } else {
        this.nextCorr = corr + 1;
      }
      if (!this.corrWrapped || !this.pending.has(corr)) return corr;
    }
  }

  private take(corr: number): R | undefined {
    const req = this.pending.get(corr);
    if (req !== undefined) this.pending.delete(corr);
    return req;
  }

  private frame(f: Frame): void {
    if ('service' in f) {
      if (this.state === 'handshake') {
        this.destroy(new CorralError('BAD_FRAME', `hub ${this.key} sent a ${f.service} frame before WELCOME`));
        return;
      }
      const req = f.corr === 0 ? undefined : this.take(f.corr);
      if (req !== undefined) this.owner.reply(this, req, f);
      else if (f.corr === 0) this.owner.pushed(this, f);
      return;
    }
    if (this.state === 'handshake' && f.type !== FrameType.WELCOME && f.type !== FrameType.ERROR && f.type !== FrameType.GOODBYE) {
      this.destroy(new CorralError('BAD_FRAME', `hub ${this.key} sent frame 0x${f.type.toString(16)} before WELCOME`));
      return;
    }
    switch (f.type) {
      case FrameType.PUBLISH_ACK:
      case FrameType.SUBSCRIBED:
      case FrameType.OK:
      case FrameType.RESULT: {
        const req = this.take(f.corr);
        // No request: a late reply to one the client gave up on.
        if (req !== undefined) this.owner.reply(this, req, f);
        return;
      }
      case FrameType.DELIVER:
        this.owner.delivered(this, f);
        return;
      case FrameType.ERROR:
        this.onError(f);
        return;
      case FrameType.REDIRECT: {
        if (f.corr === 0) {
          this.owner.rerouted(this, f);
          return;
        }
        const req = this.take(f.corr);
        if (req !== undefined) this.owner.redirected(this, req, f);
        return;
      }
      case FrameType.WELCOME:
        this.onWelcome(f);
        return;
      case FrameType.GOODBYE:
        // [P-1.6] the hub closes next; what is still unanswered is resent after reconnecting.
        this.closeError ??= new CorralError(f.code === 0 ? 'CONNECTION_CLOSED' : errorCodeFromWire(f.code), `hub ${this.key} said goodbye: ${f.reason}`);
        return;
      case FrameType.PONG:
        return;
      default:
        this.owner.unsolicited(this, new CorralError('BAD_FRAME', `hub ${this.key} sent frame 0x${f.type.toString(16)}, which only clients send`));
    }
  }

  private onWelcome(f: WelcomeFrame): void {
    const hs = this.handshake;
    if (!hs) {
      this.owner.unsolicited(this, new CorralError('BAD_FRAME', `hub ${this.key} sent a second WELCOME`));
      return;
    }
    this.handshake = undefined;
    clearTimeout(this.timer);
    this.welcome = f;
    this.granted = new Set(f.features);
    this.state = 'open';
    const { pingIntervalMs, pingTimeoutMs } = this.settings;
    this.timer = setInterval(() => this.keepalive(), Math.max(10, Math.min(pingIntervalMs, pingTimeoutMs) / 4));
    this.timer.unref();
    hs.resolve(f);
  }

  private onError(f: ErrorFrame): void {
    const err = new CorralError(errorCodeFromWire(f.code), f.message);
    if (this.handshake) {
      // [P-1.2] UNAUTHORIZED, UNSUPPORTED_VERSION: the hub closes; open() rejects with this error.
      this.destroy(err);
      return;
    }
    if (f.corr !== 0) {
      const req = this.take(f.corr);
      if (req !== undefined) this.owner.refused(this, req, err);
      return;
    }
    if (f.subId !== 0) this.owner.attachmentEnded(this, f.subId, err);
    else this.owner.unsolicited(this, err);
  }

  /**
   * [P-1.6] Any frame shows the hub alive; after `pingIntervalMs` of silence a
   * PING asks, and silence for `pingTimeoutMs` after it closes the connection.
   * A hub answers PING at once whatever else it is doing, so this notices a
   * hung hub in seconds, well before a request would time out.
   */
  private keepalive(): void {
    const now = Date.now();
    if (this.pingSentAt !== 0) {
      if (this.lastReceived >= this.pingSentAt) this.pingSentAt = 0;
      else if (now - this.pingSentAt >= this.settings.pingTimeoutMs) {
        // After the poll phase: an answer that arrived while this process was
        // busy is read first, so a stalled client does not blame the hub.
        const sentAt = this.pingSentAt;
        setImmediate(() => {
          if (this.state === 'open' && this.lastReceived < sentAt) this.hung(`hub ${this.key} did not answer PING within ${this.settings.pingTimeoutMs} ms`);
        });
        return;
      }
    }
    if (this.pingSentAt === 0 && now - this.lastReceived >= this.settings.pingIntervalMs) {
      this.pingSentAt = now;
      this.write(encodeFrame({ type: FrameType.PING, id: 1 }));
    }
  }

  private hung(message: string): void {
    this.unresponsive = true;
    this.destroy(new CorralError('TIMEOUT', message));
  }

  private teardown(): void {
    const wasOpen = this.state === 'open' || this.state === 'closing';
    this.state = 'closed';
    this.decoder.stop();
    clearTimeout(this.timer);
    clearInterval(this.timer);
    this.out = [];
    this.outBytes = 0;
    this.outRequests = [];
    this.control = [];
    const err = this.closeError ?? new CorralError('CONNECTION_CLOSED', `connection to hub ${this.key} closed`);
    const hs = this.handshake;
    this.handshake = undefined;
    if (hs) hs.reject(err);
    if (wasOpen) {
      const inFlight = [...this.pending.values()];
      this.pending.clear();
      this.owner.closed(this, err, inFlight);
    }
    for (const w of this.closeWaiters.splice(0)) w();
  }
}

/** Errors of the TLS handshake or certificate check (EPROTO: the port does not speak TLS), as opposed to a network failure. */
function isTlsFailure(code: string, message: string): boolean {
  return code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.includes('CERT') || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
    || (code === 'EPROTO' && /ssl|tls/i.test(message));
}
