import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { CorralError } from '../protocol/corral-error.js';
import { encodeFrame } from '../protocol/encode.js';
import type { ErrorCode } from '../protocol/error-codes.js';
import { FrameType } from '../protocol/frame-type.js';
import { SERVICE_RANGES } from '../protocol/frame-type.js';
import { DEDUP_UNKNOWN_FEATURE, Duplicate, PUBLISH_ORDER_FEATURE, type DeliverFrame, type RedirectFrame, type ServiceFrame, type StartPosition, type SubscribedFrame } from '../protocol/frames.js';
import { decodeServiceMessage } from '../protocol/service-envelope.js';
import { hubUrlUsesTls, parseHostPort, parseHubUrl, type HubAddress } from '../protocol/hub-url.js';
import { checkSubscriptionName, checkTopicName } from '../protocol/names.js';
import { AttachRequest, type AttachListener } from './attach-request.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type {
  ConnectOptions, PublishOptions, RetentionOptions, StartFrom, SubscribeOptions,
} from './client-options.js';
import type { ConnectionOwner, ControlChannel, HubConnection, ReplyFrame } from './hub-connection.js';
import { PublishRequest, type PublishResult } from './publish-request.js';
import type { HubsResult, StatsResult, TopicsResult } from '../protocol/query-results.js';
import { DetachRequest, ReplyRequest } from './reply-request.js';
import { RequestQueue } from './request-queue.js';
import type { Request } from './request.js';
import { ServiceChannel, type ServiceChannelHost } from './service-channel.js';
import type { ServiceRequest } from './service-request.js';
import { Subscription, type SubscriptionOwner } from './subscription.js';
import { TopicRouter } from './topic-router.js';
import { tcpTransport, tlsTransport } from './transport.js';

export interface ClientEvents {
  /** The connection to the bootstrap hub was lost; the client reconnects. */
  disconnect: [err: CorralError];
  /** A new connection replaces the lost one; requests are resent and subscriptions re-attached. */
  reconnect: [hub: { hubId: string; address: string }];
  /** An error no request or subscription owns (an invalid ACK, giving up reconnecting, …). */
  error: [err: CorralError];
}

/** [P-6.1] the bound is the client's choice and must be finite. */
const MAX_REDIRECTS = 5;
/** Resends of one request after retryable errors; also re-attaches of a subscription in a row that end or fail. */
const MAX_RETRIES = 10;
/** The hub stopped serving the topic without naming its owner: a route to it is stale ([P-6.1], [P-6.4]). */
const OWNER_GONE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['NOT_OWNER', 'FENCED', 'SHUTTING_DOWN']);
const MAX_CREDIT = 0xffffffff;
/** Pause before asking again for a topic whose owner, as the cluster still names it, stopped answering. */
const HUNG_OWNER_RETRY_MS = 200;

type Conn = HubConnection<Request>;

/**
 * A Corral client: routes requests by topic over a pool of hub connections
 * (the bootstrap hub, and owners it redirected to [P-6.1]), resends what a
 * lost connection left unanswered, and re-attaches subscriptions.
 */
export class Client extends EventEmitter<ClientEvents> implements ConnectionOwner<Request>, AttachListener, SubscriptionOwner, ServiceChannelHost {
  /** [P-4.4] names this client's publishes so the hub stores a resent one once. */
  readonly producerId = randomBytes(12).toString('base64url');
  private producerSeq = 0;
  private state: 'connecting' | 'open' | 'reconnecting' | 'closed' = 'connecting';
  private closedReason: CorralError | undefined;
  private closing: Promise<void> | undefined;
  private addressIndex = 0;
  private readonly router: TopicRouter;
  private readonly queue: RequestQueue;
  private readonly subs = new Map<number, Subscription>();
  private readonly channels = new Map<string, ServiceChannel>();
  private nextSubId = 1;
  private sweepTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private checkedTopic = '';
  private readonly requestTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly maxAttempts: number;

  private constructor(private readonly addresses: readonly HubAddress[], options: ConnectOptions, secure: boolean) {
    super();
    this.requestTimeoutMs = positive(options.requestTimeoutMs ?? 30_000, 'requestTimeoutMs');
    this.router = new TopicRouter({
      transport: options.transport ?? (secure ? tlsTransport(options.tls) : tcpTransport),
      token: options.token ?? '',
      name: options.name ?? 'corral-client',
      // [P-1.4] every service the protocol knows (WELCOME grants those the hub runs),
      // the explicit answer to a retry whose original is no longer known [P-4.4],
      // and publishes stored in the order made across refusals and resends [P-4.6].
      features: [...SERVICE_RANGES.map((r) => r.service), DEDUP_UNKNOWN_FEATURE, PUBLISH_ORDER_FEATURE],
      connectTimeoutMs: positive(options.connectTimeoutMs ?? 10_000, 'connectTimeoutMs'),
      pingIntervalMs: positive(options.pingIntervalMs ?? 1000, 'pingIntervalMs'),
      pingTimeoutMs: positive(options.pingTimeoutMs ?? 2000, 'pingTimeoutMs'),
    }, this, () => this.queue.schedule());
    this.queue = new RequestQueue(this.router, () => ++this.producerSeq);
    const r = options.reconnect ?? {};
    this.backoff = {
      initialDelayMs: positive(r.initialDelayMs ?? 100, 'reconnect.initialDelayMs'),
      maxDelayMs: positive(r.maxDelayMs ?? 5000, 'reconnect.maxDelayMs'),
    };
    this.maxAttempts = r.maxAttempts ?? Infinity;
    if (!(this.maxAttempts >= 0)) throw new CorralError('INVALID_ARGUMENT', 'reconnect.maxAttempts must be 0 or more');
  }

  /** Connects to the first hub of the list that completes the handshake. */
  static async connect(url: string | readonly string[], options: ConnectOptions = {}): Promise<Client> {
    const urls = typeof url === 'string' ? [url] : url;
    const addresses = urls.flatMap((u) => parseHubUrl(u));
    if (addresses.length === 0) throw new CorralError('INVALID_URL', 'no hub address given');
    // A cluster's hubs redirect to one another: all speak TLS or none does.
    const secure = urls.some(hubUrlUsesTls);
    if (secure && !urls.every(hubUrlUsesTls)) throw new CorralError('INVALID_URL', 'mix of corrals:// (TLS) and plain hub addresses; a cluster\'s hubs all speak TLS or none does');
    const client = new Client(addresses, options, secure);
    const errors: CorralError[] = [];
    for (let i = 0; i < addresses.length; i++) {
      try {
        client.router.primary = await client.router.connectTo(addresses[i]!);
        client.addressIndex = i;
        client.state = 'open';
        client.sweepTimer = setInterval(() => client.sweep(), Math.min(1000, Math.max(10, client.requestTimeoutMs / 4)));
        client.sweepTimer.unref();
        return client;
      } catch (err) {
        errors.push(asCorralError(err));
      }
    }
    client.state = 'closed';
    // A refusal (UNAUTHORIZED) says more than an unreachable address.
    throw errors.find((e) => e.code !== 'CONNECTION_CLOSED' && e.code !== 'TIMEOUT') ?? errors[errors.length - 1]!;
  }

  // ---- public API

  /** Appends one message to a topic; resolves once it is durable [P-4.2]. */
  publish(topic: string, payload: Uint8Array | string, options?: PublishOptions): Promise<PublishResult> {
    if (this.state === 'closed') return Promise.reject(this.closedError());
    if (topic !== this.checkedTopic) {
      try {
        checkTopicName(topic);
      } catch (err) {
        return Promise.reject(err);
      }
      this.checkedTopic = topic;
    }
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const k = options?.key;
    const key = typeof k === 'string' ? Buffer.from(k) : k;
    if (data.length > this.router.maxPayloadBytes || (key !== undefined && key.length > this.router.maxPayloadBytes)) {
      return Promise.reject(new CorralError('PAYLOAD_TOO_LARGE', `payload of ${data.length} bytes (key ${key?.length ?? 0}) exceeds the hub's limit of ${this.router.maxPayloadBytes}`));
    }
    const req = new PublishRequest(topic, Date.now() + this.requestTimeoutMs, data, key, this.producerId, ++this.producerSeq);
    const promise = new Promise<PublishResult>((resolve, reject) => {
      req.resolve = resolve;
      req.reject = reject;
    });
    this.queue.submit(req);
    return promise;
  }

  /** Attaches a durable subscription (created when new) and resolves once the hub confirmed it [P-5.1]. */
  subscribe(topic: string, subscription: string, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.state === 'closed') return Promise.reject(this.closedError());
    let start: StartPosition;
    const credit = options.credit ?? 1000;
    try {
      checkTopicName(topic);
      checkSubscriptionName(subscription);
      start = startPosition(options.from ?? 'latest');
      if (!Number.isInteger(credit) || credit < 1 || credit > MAX_CREDIT) {
        throw new CorralError('INVALID_ARGUMENT', `credit must be a whole number from 1 to ${MAX_CREDIT}`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const sub = new Subscription(this, topic, subscription, this.nextSubId++, start, credit);
    this.subs.set(sub.subId, sub);
    return new Promise((resolve, reject) => {
      this.queue.submit(new AttachRequest(sub, Date.now() + this.requestTimeoutMs, this, { resolve, reject }));
    });
  }

  /** Deletes a subscription [P-5.7]; an attached Subscription object then ends with SUBSCRIPTION_DELETED. */
  async unsubscribe(topic: string, subscription: string): Promise<void> {
    checkTopicName(topic);
    checkSubscriptionName(subscription);
    await this.request(topic, FrameType.OK, (corr) => encodeFrame({ type: FrameType.UNSUBSCRIBE, corr, topic, subscription }));
  }

  /** Sets a topic's retention, replacing any earlier setting [P-6.2]. */
  async configureTopic(topic: string, retention: RetentionOptions): Promise<void> {
    checkTopicName(topic);
    const retainCount = retention.retainCount ?? 0;
    const retainMs = retention.retainMs ?? 0;
    for (const [name, v] of [['retainCount', retainCount], ['retainMs', retainMs]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new CorralError('INVALID_ARGUMENT', `${name} must be a whole number, 0 or more`);
    }
    await this.request(topic, FrameType.OK, (corr) => encodeFrame({ type: FrameType.CONFIGURE_TOPIC, corr, topic, retainCount, retainMs }));
  }

  /** Deletes a topic's messages, subscriptions and retention [P-6.5]; its sequence numbers continue. UNKNOWN_TOPIC if it never existed. */
  async deleteTopic(topic: string): Promise<void> {
    checkTopicName(topic);
    await this.request(topic, FrameType.OK, (corr) => encodeFrame({ type: FrameType.DELETE_TOPIC, corr, topic }));
  }

  /** QUERY [P-7.1]: the hub's JSON answer. */
  query(kind: 'topics'): Promise<TopicsResult>;
  query(kind: 'stats'): Promise<StatsResult>;
  query(kind: 'hubs'): Promise<HubsResult>;
  query(kind: string, args?: object): Promise<unknown>;
  query(kind: string, args?: object): Promise<unknown> {
    const text = args === undefined ? '' : JSON.stringify(args);
    return this.request(undefined, FrameType.RESULT, (corr) => encodeFrame({ type: FrameType.QUERY, corr, kind, args: text }));
  }

  /**
   * The client channel of a service [P-11.1] (`clock`, `sync`, …): requests
   * for its resources are routed, redirected and retried like topic requests.
   */
  service(name: string): ServiceChannel {
    let channel = this.channels.get(name);
    if (channel === undefined) {
      if (!SERVICE_RANGES.some((r) => r.service === name)) throw new CorralError('UNKNOWN_SERVICE', `no service named ${JSON.stringify(name)} in this client's protocol`);
      channel = new ServiceChannel(name, this, this.requestTimeoutMs);
      this.channels.set(name, channel);
    }
    return channel;
  }

  /** The hubs this client connected to, and the services (features) each granted [P-1.4]. */
  hubs(): Array<{ hubId: string; address: string; features: readonly string[] }> {
    return this.router.connections().map((c) => ({ hubId: c.welcome?.hubId ?? '', address: c.key, features: c.welcome?.features ?? [] }));
  }

  submitService(channel: ServiceChannel, req: ServiceRequest): void {
    if (this.state === 'closed') {
      req.fail(this.closedError());
      return;
    }
    const welcome = this.router.primary?.welcome;
    if (welcome !== undefined && !welcome.features.includes(channel.name)) {
      req.fail(new CorralError('UNKNOWN_SERVICE', `hub ${welcome.hubId} does not run the ${channel.name} service (it runs: ${welcome.features.join(', ') || 'none'})`));
      return;
    }
    this.queue.submit(req);
  }

  /**
   * GOODBYE and close [P-1.6]: requests still pending reject with
   * CLIENT_CLOSED, subscription iterators end. Acks already given are sent first.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown(new CorralError('CLIENT_CLOSED', 'the client was closed'), undefined);
    return this.closing;
  }

  private request(topic: string | undefined, expects: typeof FrameType.OK | typeof FrameType.RESULT, build: (corr: number) => Buffer): Promise<unknown> {
    if (this.state === 'closed') return Promise.reject(this.closedError());
    const req = new ReplyRequest(topic, Date.now() + this.requestTimeoutMs, build, expects);
    const promise = new Promise<unknown>((resolve, reject) => {
      req.resolve = resolve;
      req.reject = reject;
    });
    this.queue.submit(req);
    return promise;
  }

  private sweep(): void {
    for (const { req, conn } of this.queue.expired(Date.now())) {
      // The hub may still attach it: release the handle rather than leave it taking credit.
      if (req instanceof AttachRequest && conn?.isOpen) this.sendDetach(conn, req.sub.subId).catch(() => undefined);
      req.fail(new CorralError('TIMEOUT', `no answer within ${this.requestTimeoutMs} ms${req.topic === undefined ? '' : ` (topic ${req.topic})`}`));
    }
  }

  // ---- ConnectionOwner

  reply(conn: Conn, req: Request, frame: ReplyFrame): void {
    this.queue.settle(conn, req, !('service' in frame) && frame.type === FrameType.PUBLISH_ACK && frame.duplicate === Duplicate.NO);
    req.complete(frame, conn);
  }

  refused(conn: Conn, req: Request, err: CorralError): void {
    // A commit that failed in the store may still have been written.
    if (err.code === 'STORE_UNAVAILABLE') req.lostInFlight();
    if (req.resendable && req.retriesOn(err) && req.retries < MAX_RETRIES && this.state !== 'closed') {
      const topic = req.topic;
      if (topic !== undefined && OWNER_GONE_CODES.has(err.code)) this.router.forget(topic, conn);
      // [P-6.4] a REDIRECT for the topic arrived ahead of this refusal: resend to the new owner at once.
      const moved = topic !== undefined && req.retries === 0 && this.router.leadsElsewhere(topic, conn);
      // [P-4.6] refused only because the publish before it was: it goes again right behind that one; no failure of its own.
      const own = err.code !== 'OUT_OF_ORDER';
      const delay = own ? backoffDelay(req.retries++, this.backoff) : 0;
      this.queue.retry(conn, req, moved || !own ? 0 : Date.now() + delay);
      return;
    }
    this.queue.settle(conn, req, false);
    req.fail(err);
  }

  redirected(conn: Conn, req: Request, f: RedirectFrame): void {
    let address: HubAddress;
    try {
      address = parseHostPort(f.address);
      if (this.router.isHung(address)) {
        // The cluster still names an owner that stopped answering: its lease has
        // not lapsed yet. Ask again shortly, until another hub owns the topic;
        // the request's deadline bounds the wait, not the redirect limit.
        this.queue.retry(conn, req, Date.now() + HUNG_OWNER_RETRY_MS);
        return;
      }
      // The owner refused this client's handshake when the request was last sent there: bouncing
      // between it and the hub that redirects to it until REDIRECT_LIMIT would hide the reason.
      const refused = req.redirects > 0 ? this.router.refusal(address) : undefined;
      if (refused !== undefined) {
        throw new CorralError(refused.code, `the owner of ${f.topic}, hub ${f.address}, refused this client: ${refused.message}`, { cause: refused });
      }
      if (++req.redirects > MAX_REDIRECTS) {
        throw new CorralError('REDIRECT_LIMIT', `gave up on topic ${f.topic} after ${MAX_REDIRECTS} redirects (last to ${f.address})`);
      }
    } catch (err) {
      this.queue.settle(conn, req, false);
      req.fail(asCorralError(err));
      return;
    }
    this.router.redirect(f.topic, address, f.epoch);
    this.queue.retry(conn, req, 0);
  }

  delivered(conn: Conn, f: DeliverFrame): void {
    const sub = this.subs.get(f.subId);
    if (sub !== undefined && sub.channel === conn) sub.deliver(f);
  }

  pushed(_conn: Conn, f: ServiceFrame): void {
    const channel = this.channels.get(f.service);
    if (channel === undefined) return;
    try {
      channel.emit('push', decodeServiceMessage(f));
    } catch (err) {
      this.emitError(asCorralError(err));
    }
  }

  attachmentEnded(conn: Conn, subId: number, err: CorralError): void {
    const sub = this.subs.get(subId);
    if (sub === undefined || sub.channel !== conn) return;
    // [P-5.9], [P-6.4] the hub stopped serving the topic (handed it over, shutting down, fenced):
    // the iterator carries on and the subscription is attached again, at the new owner when known.
    if (err.retryable) {
      if (OWNER_GONE_CODES.has(err.code)) this.router.forget(sub.topic, conn);
      if (this.reattach(sub, conn)) return;
    }
    this.subs.delete(subId);
    sub.end(err);
  }

  rerouted(conn: Conn, f: RedirectFrame): void {
    let address: HubAddress;
    try {
      address = parseHostPort(f.address);
    } catch (err) {
      this.emitError(asCorralError(err));
      return;
    }
    // [P-6.4] later requests for the topic go to the new owner, once those in flight here came back.
    if (this.state !== 'closed' && this.router.moved(f.topic, address, f.epoch)) this.queue.rerouted(f.topic, conn);
  }

  unsolicited(_conn: Conn, err: CorralError): void {
    this.emitError(err);
  }

  closed(conn: Conn, err: CorralError, inFlight: Request[]): void {
    const wasPrimary = conn === this.router.primary;
    this.router.dropConnection(conn);
    if (this.state === 'closed') return;
    for (const sub of this.subs.values()) {
      if (sub.channel === conn) {
        sub.detached();
        this.queue.submit(new AttachRequest(sub, Infinity, this));
      }
    }
    // Unknown outcome [P-1.6]: resent with the same producer sequences, the hub stores each publish once [P-4.4].
    this.queue.connectionClosed(conn, inFlight);
    if (wasPrimary) {
      this.state = 'reconnecting';
      this.emit('disconnect', err);
      this.reconnect(0, err);
    }
  }

  // ---- AttachListener, SubscriptionOwner

  attached(req: AttachRequest, conn: Conn, f: SubscribedFrame): void {
    const sub = req.sub;
    if (sub.state === 'closed') {
      // Closed while the SUBSCRIBE was in flight.
      this.sendDetach(conn, sub.subId).catch(() => undefined);
      return;
    }
    sub.attached(conn, f);
    req.first?.resolve(sub);
  }

  attachFailed(req: AttachRequest, err: CorralError): void {
    const sub = req.sub;
    const current = this.subs.get(sub.subId) === sub;
    // A re-attach that ran out of redirects or resends: try again from the start, within the same bound.
    if (req.first === undefined && current && err.retryable && this.reattach(sub, undefined)) return;
    if (current) this.subs.delete(sub.subId);
    if (req.first) {
      sub.end(undefined);
      req.first.reject(err);
    } else {
      sub.end(err);
    }
  }

  detach(sub: Subscription, channel: ControlChannel | undefined): Promise<void> {
    if (this.subs.get(sub.subId) === sub) this.subs.delete(sub.subId);
    this.queue.cancelWaiting((r) => r instanceof AttachRequest && r.sub === sub);
    const conn = this.router.find(channel);
    if (conn === undefined || !conn.isOpen || this.state === 'closed') return Promise.resolve();
    return this.sendDetach(conn, sub.subId);
  }

  /**
   * Attaches `sub` again after its attachment ended or a re-attach failed
   * [P-5.9], [P-6.4]: after a backoff, or at once when the topic was just
   * redirected away from `from`. Delivery resumes after the subscription's
   * acknowledged position, duplicates of what was handed out are dropped, and
   * acks given meanwhile are sent once attached. False once MAX_RETRIES
   * attempts in a row failed.
   */
  private reattach(sub: Subscription, from: Conn | undefined): boolean {
    if (this.state === 'closed' || sub.state === 'closed' || sub.reattachFailures >= MAX_RETRIES) return false;
    const moved = from !== undefined && sub.reattachFailures === 0 && this.router.leadsElsewhere(sub.topic, from);
    const delay = backoffDelay(sub.reattachFailures++, this.backoff);
    sub.detached();
    const req = new AttachRequest(sub, Infinity, this);
    req.notBefore = moved ? 0 : Date.now() + delay;
    this.queue.submit(req);
    return true;
  }

  private sendDetach(conn: Conn, subId: number): Promise<void> {
    const req = new DetachRequest(undefined, Date.now() + this.requestTimeoutMs, (corr) => encodeFrame({ type: FrameType.DETACH, corr, subId }), FrameType.OK);
    const promise = new Promise<void>((resolve) => {
      req.resolve = () => resolve();
      req.reject = () => resolve();
    });
    this.queue.submitTo(conn, req);
    return promise;
  }

  // ---- reconnecting and closing

  /** Reconnects to the next hub of the list after a backoff; gives up after maxAttempts [P-1.6]. */
  private reconnect(attempt: number, lastErr: CorralError): void {
    if (this.state !== 'reconnecting') return;
    if (attempt >= this.maxAttempts) {
      const err = new CorralError('CONNECTION_CLOSED', `gave up reconnecting after ${attempt} attempts: ${lastErr.message}`, { cause: lastErr });
      this.emitError(err);
      void this.shutdown(err, err);
      return;
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.addressIndex = (this.addressIndex + 1) % this.addresses.length;
      const address = this.addresses[this.addressIndex]!;
      this.router.connectTo(address).then((conn) => {
        if (this.state !== 'reconnecting') return;
        this.router.primary = conn;
        this.state = 'open';
        this.emit('reconnect', { hubId: conn.welcome?.hubId ?? '', address: conn.key });
        this.queue.schedule();
      }, (err: unknown) => this.reconnect(attempt + 1, asCorralError(err)));
    }, backoffDelay(attempt, this.backoff));
  }

  private async shutdown(reason: CorralError, subscriptionError: CorralError | undefined): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closedReason = reason;
    this.router.closed = true;
    clearInterval(this.sweepTimer);
    clearTimeout(this.reconnectTimer);
    const conns = this.router.connections();
    // Requests not yet written are rejected below, so they must not reach a hub; acks given so far still go.
    for (const conn of conns) conn.discardQueued();
    for (const sub of this.subs.values()) {
      if (sub.channel?.isOpen) sub.writeControl(sub.channel);
      sub.end(subscriptionError);
    }
    this.subs.clear();
    for (const r of this.queue.close()) r.fail(reason);
    await Promise.all(conns.map((c) => c.close()));
  }

  private closedError(): CorralError {
    return this.closedReason ?? new CorralError('CLIENT_CLOSED', 'the client was closed');
  }

  private emitError(err: CorralError): void {
    // An EventEmitter throws an 'error' nobody listens to; here it is only informational.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/** Connects to a hub: `corral://host:port[,host:port…]` or a list of such URLs [P-3.2]. */
export function connect(url: string | readonly string[], options?: ConnectOptions): Promise<Client> {
  return Client.connect(url, options);
}

function startPosition(from: StartFrom): StartPosition {
  if (from === 'earliest' || from === 'latest') return { kind: from };
  if (typeof from === 'number' && Number.isSafeInteger(from) && from >= 0) return { kind: 'seq', seq: from };
  throw new CorralError('INVALID_ARGUMENT', `from must be 'earliest', 'latest' or a sequence number, not ${JSON.stringify(from)}`);
}

function positive(v: number, name: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new CorralError('INVALID_ARGUMENT', `${name} must be a positive number`);
  return v;
}

function asCorralError(err: unknown): CorralError {
  return err instanceof CorralError ? err : new CorralError('CONNECTION_CLOSED', String(err), { cause: err });
}
