import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { CorralError } from '../protocol/corral-error.js';
import { encodeDeliver, encodeError, encodeFrame, encodePublishAck } from '../protocol/encode.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { FrameType } from '../protocol/frame-type.js';
import { DEDUP_UNKNOWN_FEATURE, Duplicate, PROTOCOL_VERSION, type Frame, type HelloFrame } from '../protocol/frames.js';
import type { LogRecord } from '../store/message-log.js';
import { ANYONE, type AccessControl, type Principal } from './access-control.js';
import type { HubLimits } from './hub-options.js';
import type { HubMetrics } from './hub-metrics.js';
import type { ServiceConnection } from './hub-service.js';
import type { OutboundBudget } from './outbound-budget.js';
import { OutboundQueue } from './outbound-queue.js';
import type { Attachment, DeliveryTarget } from './subscription.js';
import type { PublishAckTarget, Topic } from './topic.js';

/** What a session needs from the hub it belongs to. */
export interface SessionHost {
  readonly hubId: string;
  readonly limits: HubLimits;
  readonly access: AccessControl | undefined;
  readonly metrics: HubMetrics;
  readonly logger: Logger;
  /** Bytes queued to every connection of the hub; past it, deliveries to those holding the most wait. */
  readonly outboundBudget: OutboundBudget<ClientSession>;
  /** [P-1.4] the requested features this hub grants. */
  grantFeatures(requested: readonly string[]): string[];
  /** A frame after the handshake. */
  route(session: ClientSession, frame: Frame): void;
  /** The connection can take more deliveries. */
  resume(session: ClientSession): void;
  closed(session: ClientSession): void;
}

/** One attached subscription of this connection. */
export interface SessionAttachment {
  topic: Topic;
  attachment: Attachment;
}

let nextSessionId = 1;

/**
 * One client connection: framing, handshake, outbound coalescing and
 * backpressure in both directions. What a frame means is decided by the hub
 * (`host.route`); the session only carries it.
 */
export class ClientSession implements DeliveryTarget, PublishAckTarget, ServiceConnection {
  readonly id = nextSessionId++;
  readonly attachments = new Map<number, SessionAttachment>();
  /** Topics this connection published to, so a topic that moves can tell it where [P-6.4]. */
  readonly publishedTopics = new Set<string>();
  clientName = '';
  /** Who the client proved to be in HELLO, and so what it may do. */
  principal: Principal = ANYONE;
  private readonly decoder: FrameDecoder;
  private state: 'handshake' | 'open' | 'closed' = 'handshake';
  /** [P-4.4] granted DEDUP_UNKNOWN_FEATURE: a retry whose original is not known is answered as such. */
  private dedupUnknown = false;
  private readonly outbound: OutboundQueue;
  /** A sender found the connection full; it must be resumed once there is room. */
  private starved = false;
  private pendingPublishes = 0;
  private pendingBytes = 0;
  private pendingQueries = 0;
  private readingPaused = false;
  private resumeQueued = false;
  /** Reading is paused on unread replies: fires when the client has not read for the stall timeout. */
  private stallTimer: NodeJS.Timeout | undefined;
  private errors = 0;
  private readonly closeListeners: Array<() => void> = [];
  private readonly handshakeTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: Duplex,
    private readonly host: SessionHost,
    /** The hub's own loopback connection: no credential asked, everything allowed. */
    private readonly trusted = false,
  ) {
    this.decoder = new FrameDecoder(this, Math.min(host.limits.maxHandshakeFrameBytes, host.limits.maxFrameBytes));
    this.outbound = new OutboundQueue(socket, host.outboundBudget, () => this.outputTaken());
    host.outboundBudget.opened();
    // [P-1.7] Read on demand (no 'data' flow): a read is asked for only
    // while the decoder takes frames, so a connection the hub stopped reading
    // holds the rest of one read, not also a read Node made ahead.
    socket.on('readable', () => this.readInput());
    socket.on('error', (err) => host.logger.debug({ err, session: this.id }, 'connection error'));
    socket.on('close', () => this.teardown());
    this.handshakeTimer = setTimeout(() => {
      this.fatal(new CorralError('HANDSHAKE_TIMEOUT', `no HELLO within ${host.limits.handshakeTimeoutMs} ms`));
    }, host.limits.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    host.metrics.connections.inc();
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Bytes queued to this connection that the kernel has not taken yet. */
  get queuedBytes(): number {
    return this.outbound.bytes;
  }

  /** The hub reads nothing from this connection for now (backpressure, [P-1.7]). */
  get readingIsPaused(): boolean {
    return this.readingPaused;
  }

  // ---- FrameSink

  frame(f: Frame): void {
    if (this.state === 'closed') return;
    if (this.state === 'handshake') {
      if ('service' in f || f.type !== FrameType.HELLO) this.fatal(new CorralError('HANDSHAKE_REQUIRED', 'the first frame must be HELLO'));
      else this.handshake(f);
      return;
    }
    if ('service' in f) {
      this.host.route(this, f);
      return;
    }
    switch (f.type) {
      case FrameType.PING:
        this.send(encodeFrame({ type: FrameType.PONG, id: f.id }));
        return;
      case FrameType.GOODBYE:
        this.close();
        return;
      case FrameType.HELLO:
        this.sendError(0, new CorralError('HANDSHAKE_REQUIRED', 'HELLO was already received'));
        return;
      default:
        this.host.route(this, f);
    }
  }

  badFrame(err: CorralError, corr: number): void {
    this.sendError(corr, err);
  }

  fatal(err: CorralError): void {
    this.sendError(0, err);
    this.close();
  }

  private handshake(f: HelloFrame): void {
    clearTimeout(this.handshakeTimer);
    if (f.version !== PROTOCOL_VERSION) {
      this.fatal(new CorralError('UNSUPPORTED_VERSION', `protocol version ${f.version} is not supported; this hub speaks ${PROTOCOL_VERSION}`));
      return;
    }
    const principal = this.host.access === undefined || this.trusted ? ANYONE : this.host.access.authenticate(f.token);
    if (principal === undefined) {
      this.fatal(new CorralError('UNAUTHORIZED', 'missing or wrong token'));
      return;
    }
    this.principal = principal;
    this.clientName = f.client;
    this.state = 'open';
    const { limits } = this.host;
    this.decoder.maxFrameBytes = limits.maxFrameBytes;
    const features = this.host.grantFeatures(f.features);
    this.dedupUnknown = features.includes(DEDUP_UNKNOWN_FEATURE);
    this.send(encodeFrame({
      type: FrameType.WELCOME, version: PROTOCOL_VERSION, hubId: this.host.hubId,
      maxFrameBytes: limits.maxFrameBytes, maxPayloadBytes: limits.maxPayloadBytes,
      maxSubscriptions: limits.maxSubscriptionsPerConnection, features,
    }));
  }

  // ---- outbound

  /** Queues a reply (any frame but DELIVER). */
  send(frame: Frame | Buffer): void {
    if (this.state === 'closed') return;
    this.outbound.push(Buffer.isBuffer(frame) ? frame : encodeFrame(frame), true);
    // [P-1.7] Replies are made by the client's requests: past the bound the
    // hub reads no more requests (the decoder stops after this frame).
    this.updateReading();
  }

  /** Deliveries stop at this connection's bound and at the hub-wide budget; they resume once the kernel takes bytes. */
  get writable(): boolean {
    const queued = this.outbound.bytes;
    const ok = this.state !== 'closed' && queued < this.host.limits.maxOutboundBytes && this.host.outboundBudget.admits(this, queued);
    if (!ok) this.starved = true;
    return ok;
  }

  private outputTaken(): void {
    if (this.state === 'closed') return;
    this.updateReading();
    if (this.starved && this.outbound.bytes < this.host.limits.maxOutboundBytes) {
      this.starved = false;
      // Deferred: the kernel may take every write at once, and deliveries must not loop without yielding.
      setImmediate(() => this.host.resume(this));
    }
  }

  sendError(corr: number, err: CorralError, subId = 0): void {
    this.host.metrics.errors.inc({ code: err.code });
    this.send(encodeError(corr, subId, err));
    // [P-1.7] Only what the client could have avoided counts: a retryable
    // refusal is the hub's (store failing, shutdown, fencing, a topic moving),
    // and an attachment ended by another client's act is not this one's doing.
    if (err.retryable || subId !== 0) return;
    if (++this.errors > this.host.limits.maxErrorsPerConnection) {
      this.host.logger.warn({ session: this.id }, 'closing a connection that sent too many bad requests');
      this.close();
    }
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  // ---- DeliveryTarget

  deliver(subId: number, rec: LogRecord): void {
    if (this.state === 'closed') return;
    this.outbound.push(encodeDeliver(subId, rec.seq, rec.timestamp, rec.key, rec.payload), false);
  }

  subscriptionEnded(subId: number, err: CorralError): void {
    this.attachments.delete(subId);
    this.sendError(0, err, subId);
  }

  // ---- PublishAckTarget and inbound backpressure

  /** A publish was admitted; past the limits the hub stops reading from this connection. */
  publishStarted(bytes: number): void {
    this.pendingPublishes++;
    this.pendingBytes += bytes;
    this.updateReading();
  }

  /** A QUERY is in progress; at the limit the hub reads no more from this connection [P-1.7]. */
  queryStarted(): void {
    this.pendingQueries++;
    this.updateReading();
  }

  queryDone(): void {
    this.pendingQueries--;
    this.updateReading();
  }

  publishAcked(corr: number, seq: number, duplicate: Duplicate, bytes: number): void {
    this.publishSettled(bytes);
    // [P-8.10] a client that did not ask for the explicit answer gets version 1's: a duplicate of seq 0.
    if (duplicate === Duplicate.ORIGINAL_UNKNOWN && !this.dedupUnknown) duplicate = Duplicate.YES;
    this.send(encodePublishAck(corr, seq, duplicate));
  }

  publishFailed(corr: number, err: CorralError, bytes: number): void {
    this.publishSettled(bytes);
    this.sendError(corr, err);
  }

  /** A publish left this hub's hands (acknowledged, failed or redirected). */
  publishSettled(bytes: number): void {
    this.pendingPublishes--;
    this.pendingBytes -= bytes;
    this.updateReading();
  }

  /**
   * Inbound backpressure [P-1.7]: past the limits the decoder pauses and
   * the socket is not read (frames already read wait in the decoder); both
   * resume once publishes fall to half their limits, a query slot is free
   * and the replies queued fall to half their bound. Resuming is deferred
   * to a later turn, so frames are never decoded inside a commit's
   * acknowledgements.
   */
  private updateReading(): void {
    const l = this.host.limits;
    const replies = this.outbound.replyBytes;
    if (!this.readingPaused) {
      if (this.pendingPublishes >= l.maxPendingPublishesPerConnection || this.pendingBytes >= l.maxPendingPublishBytesPerConnection
        || this.pendingQueries >= l.maxPendingQueriesPerConnection || replies > l.maxQueuedReplyBytes) {
        this.readingPaused = true;
        this.decoder.pause();
        this.watchStall();
      }
      return;
    }
    if (this.resumeQueued || this.pendingPublishes > l.maxPendingPublishesPerConnection / 2
      || this.pendingBytes > l.maxPendingPublishBytesPerConnection / 2 || this.pendingQueries >= l.maxPendingQueriesPerConnection
      || replies > l.maxQueuedReplyBytes / 2) {
      this.watchStall();
      return;
    }
    this.resumeQueued = true;
    setImmediate(() => {
      this.resumeQueued = false;
      if (this.state === 'closed') return;
      this.readingPaused = false;
      // What the decoder holds first: the socket is read again only once it has taken all of it.
      this.decoder.resume();
      this.readInput();
    });
  }

  /** Feeds the decoder what the socket has read, one read at a time, until reading pauses. */
  private readInput(): void {
    while (!this.readingPaused) {
      const chunk = this.socket.read() as Buffer | null;
      if (chunk === null) return;
      this.decoder.push(chunk);
    }
  }

  /**
   * [P-1.7] SLOW_READER: while reading is paused with replies queued, a
   * client whose socket took nothing for the stall timeout does not read at
   * all; its connection is closed. One that reads, however slowly, is only
   * slowed down by the pause.
   */
  private watchStall(): void {
    if (this.stallTimer !== undefined || this.outbound.replyBytes === 0) return;
    const due = this.outbound.waitingSince + this.host.limits.stallTimeoutMs - performance.now();
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.state === 'closed' || !this.readingPaused || this.outbound.replyBytes === 0) return;
      if (performance.now() - this.outbound.waitingSince >= this.host.limits.stallTimeoutMs) this.slowReader();
      else this.watchStall();
    }, Math.max(0, due));
    this.stallTimer.unref();
  }

  // ---- closing

  private slowReader(): void {
    const queued = this.outbound.bytes;
    const seconds = this.host.limits.stallTimeoutMs / 1000;
    const err = new CorralError('SLOW_READER', `the client read nothing for ${seconds} s while ${queued} bytes the hub sent waited and its requests kept coming`);
    this.host.logger.warn({ session: this.id, client: this.clientName, queued }, 'closing a connection that sends requests but does not read the replies');
    this.host.metrics.errors.inc({ code: err.code });
    this.outbound.discard();
    this.state = 'closed';
    this.decoder.stop();
    // Best effort: the client is not reading, and its queue is what this frees.
    this.socket.end(encodeError(0, 0, err));
    this.socket.destroy();
  }

  /** Sends GOODBYE and closes after the outbound queue is written. */
  goodbye(reason: string): void {
    if (this.state === 'closed') return;
    this.send(encodeFrame({ type: FrameType.GOODBYE, code: ERROR_CODES.SHUTTING_DOWN.wire, reason }));
    this.close();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.outbound.flush();
    this.state = 'closed';
    this.decoder.stop();
    this.socket.end();
    // A peer that never reads must not keep the socket open forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private teardown(): void {
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.stallTimer);
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.decoder.stop();
    }
    this.outbound.discard();
    this.host.outboundBudget.closed(this);
    this.host.metrics.connections.dec();
    this.host.closed(this);
    for (const l of this.closeListeners) l();
  }
}

