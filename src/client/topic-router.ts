import { CorralError } from '../protocol/corral-error.js';
import { formatHostPort, type HubAddress } from '../protocol/hub-url.js';
import { HubConnection, type ConnectionOwner, type ConnectionSettings, type ControlChannel } from './hub-connection.js';
import type { Request } from './request.js';

type Conn = HubConnection<Request>;

interface Route {
  key: string;
  address: HubAddress;
  epoch: number;
}

/**
 * The client's hub connections: the bootstrap hub ("primary", for every
 * topic not redirected elsewhere) and the owners REDIRECTs named, one
 * connection per address [P-6.1]; an unsolicited REDIRECT moves a topic's
 * route when ownership is handed over [P-6.4].
 */
export class TopicRouter {
  primary: Conn | undefined;
  /** The smallest payload limit of the hubs connected so far [P-1.7]. */
  maxPayloadBytes = Infinity;
  closed = false;
  private readonly pool = new Map<string, Conn>();
  private readonly opening = new Map<string, Promise<Conn>>();
  private readonly routes = new Map<string, Route>();
  /** Epoch of a topic's last route once it is dropped (owner unknown again) [P-6.4]. */
  private readonly floors = new Map<string, number>();
  /** Hubs that stopped answering, by address, with when each was last probed. */
  private readonly hung = new Map<string, number>();
  /** Hubs whose handshake refused this client (UNAUTHORIZED, TLS_FAILED, …), by address, until one succeeds. */
  private readonly refusals = new Map<string, CorralError>();

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly owner: ConnectionOwner<Request>,
    /** A connection to a redirect target opened or failed: waiting requests can move. */
    private readonly routesChanged: () => void,
  ) {}

  /** The open connection for a topic: its owner's after a redirect, else the primary. */
  connectionFor(topic: string | undefined): Conn | undefined {
    if (topic !== undefined) {
      const route = this.routes.get(topic);
      if (route !== undefined) {
        const conn = this.pool.get(route.key);
        if (conn?.isOpen) return conn;
        if (conn === undefined && !this.opening.has(route.key)) this.openRoute(route);
        return undefined;
      }
    }
    return this.primary?.isOpen ? this.primary : undefined;
  }

  /** Opens (or reuses) the connection to an address; resolves after the handshake. */
  connectTo(address: HubAddress): Promise<Conn> {
    const key = formatHostPort(address);
    const existing = this.pool.get(key);
    if (existing?.isOpen) return Promise.resolve(existing);
    let opening = this.opening.get(key);
    if (opening === undefined) {
      const conn: Conn = new HubConnection(address, this.settings, this.owner);
      opening = conn.open().then((welcome) => {
        this.opening.delete(key);
        if (this.closed) {
          void conn.close();
          throw new CorralError('CLIENT_CLOSED', 'the client was closed');
        }
        this.pool.set(key, conn);
        this.hung.delete(key);
        this.refusals.delete(key);
        this.maxPayloadBytes = Math.min(this.maxPayloadBytes, welcome.maxPayloadBytes);
        return conn;
      }, (err: unknown) => {
        this.opening.delete(key);
        if (conn.unresponsive) this.hung.set(key, Date.now());
        if (err instanceof CorralError && !err.retryable) this.refusals.set(key, err);
        throw err;
      });
      this.opening.set(key, opening);
    }
    return opening;
  }

  /** [P-6.1] a REDIRECT answered a request: the owner of `topic` is at `address`; of two redirects the higher epoch is the newer. */
  redirect(topic: string, address: HubAddress, epoch: number): void {
    const route = this.routes.get(topic);
    if (route !== undefined && epoch < route.epoch) return;
    this.floors.delete(topic);
    this.routes.set(topic, { key: formatHostPort(address), address, epoch });
  }

  /**
   * [P-6.4] an unsolicited REDIRECT: the topic moved. Applied only when its
   * epoch is newer than any this client knows for the topic, so a late notice
   * of an older move cannot undo a newer one. True when the route changed.
   */
  moved(topic: string, address: HubAddress, epoch: number): boolean {
    const route = this.routes.get(topic);
    const known = route?.epoch ?? this.floors.get(topic);
    if (known !== undefined && epoch <= known) return false;
    this.floors.delete(topic);
    this.routes.set(topic, { key: formatHostPort(address), address, epoch });
    return true;
  }

  /**
   * The hub behind `conn` no longer serves `topic` and did not say who does
   * (NOT_OWNER, FENCED, SHUTTING_DOWN): the next request asks the primary. A
   * route that already leads elsewhere (a REDIRECT came first) is kept.
   */
  forget(topic: string, conn: Conn): void {
    const route = this.routes.get(topic);
    if (route?.key === conn.key) this.drop(topic, route);
  }

  /** True when `topic` is routed to another hub than `conn`'s: its owner moved and the client knows where. */
  leadsElsewhere(topic: string, conn: Conn): boolean {
    const route = this.routes.get(topic);
    return route !== undefined && route.key !== conn.key;
  }

  /**
   * True when the hub at `address` stopped answering this client and has not
   * completed a handshake since. Other hubs keep naming a hung owner until
   * its cluster lease lapses; rather than wait on its handshake, the client
   * asks again shortly. A probe, at most one per keepalive timeout, tells
   * when the hub answers again (it was resumed, or it only stalled).
   */
  isHung(address: HubAddress): boolean {
    const key = formatHostPort(address);
    const probedAt = this.hung.get(key);
    if (probedAt === undefined) return false;
    const now = Date.now();
    if (now - probedAt >= this.settings.pingTimeoutMs && !this.opening.has(key)) {
      this.hung.set(key, now);
      this.connectTo(address).then(() => this.routesChanged(), () => undefined);
    }
    return true;
  }

  /**
   * Why the hub at `address` refused this client's last handshake, if it
   * did and has not accepted one since: a refusal that no retry changes
   * (a token it does not know, a certificate that does not verify).
   */
  refusal(address: HubAddress): CorralError | undefined {
    return this.refusals.get(formatHostPort(address));
  }

  /** A connection closed: topics routed to it go back to the primary until redirected again. */
  dropConnection(conn: Conn): void {
    if (conn.unresponsive) this.hung.set(conn.key, Date.now());
    if (this.pool.get(conn.key) === conn) this.pool.delete(conn.key);
    this.dropRoutesTo(conn.key);
    if (this.primary === conn) this.primary = undefined;
  }

  /** The open connection behind a subscription's channel. */
  find(channel: ControlChannel | undefined): Conn | undefined {
    for (const c of this.pool.values()) if (c === channel) return c;
    return undefined;
  }

  connections(): Conn[] {
    return [...this.pool.values()];
  }

  private openRoute(route: Route): void {
    this.connectTo(route.address).then(() => this.routesChanged(), () => {
      // Unreachable owner: ask the primary again; the redirect bound ends a loop.
      this.dropRoutesTo(route.key);
      this.routesChanged();
    });
  }

  private dropRoutesTo(key: string): void {
    for (const [topic, r] of this.routes) if (r.key === key) this.drop(topic, r);
  }

  /** The route goes; its epoch stays as the floor an unsolicited REDIRECT must exceed. */
  private drop(topic: string, route: Route): void {
    this.routes.delete(topic);
    this.floors.set(topic, route.epoch);
  }
}
