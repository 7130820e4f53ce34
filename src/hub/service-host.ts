import type { Logger } from 'pino';
import { CorralError } from '../protocol/corral-error.js';
import { encodeFrame } from '../protocol/encode.js';
import { FrameType, SERVICE_RANGES } from '../protocol/frame-type.js';
import type { ServiceFrame } from '../protocol/frames.js';
import { checkResourceName } from '../protocol/names.js';
import { decodeServiceMessage, encodeServiceMessage, type ServiceMessage } from '../protocol/service-envelope.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { HubContext, HubService, OwnedResource, ServiceConnection } from './hub-service.js';
import type { Ownership } from './ownership.js';
import { ResourceState } from './resource-state.js';
import type { RemoteOwner } from './topic-registry.js';

/** A resource loaded on this hub, with the connections that used it (told when it moves). */
interface Held extends OwnedResource {
  readonly service: HubService;
  readonly users: Set<ServiceConnection>;
  readonly running: Set<Promise<void>>;
  closed: boolean;
}

function asCorralError(err: unknown): CorralError {
  return err instanceof CorralError ? err : new CorralError('INTERNAL', 'unexpected failure in a service', { cause: err });
}

/**
 * Runs the hub's services [P-11]: grants them as features, routes each
 * service frame to its service for a resource this hub owns — acquiring it
 * through the same Ownership as topics, or redirecting to its owner — and
 * tells the service when it gains, hands off or loses a resource. Concurrent
 * requests for a resource being acquired or handed off wait for the outcome.
 */
export class ServiceHost {
  private readonly byName = new Map<string, HubService>();
  private readonly held = new Map<string, Held>();
  private readonly opening = new Map<string, Promise<Held | RemoteOwner>>();
  private stopping = false;

  constructor(
    services: readonly HubService[],
    private readonly ownership: Ownership,
    private readonly metadata: MetadataStore,
    private readonly logger: Logger,
  ) {
    for (const s of services) {
      if (!SERVICE_RANGES.some((r) => r.service === s.name)) throw new Error(`service ${s.name} has no frame range in SERVICE_RANGES`);
      this.byName.set(s.name, s);
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** [P-1.4] WELCOME grants the requested features that name a service this hub runs. */
  grant(requested: readonly string[]): string[] {
    return requested.filter((f) => this.byName.has(f));
  }

  async start(ctx: HubContext): Promise<void> {
    for (const s of this.byName.values()) await s.start(ctx);
  }

  /** A service-range frame from a client [P-11.1]. */
  route(from: ServiceConnection, f: ServiceFrame): void {
    if (this.stopping) throw new CorralError('SHUTTING_DOWN', 'hub is shutting down');
    const service = this.byName.get(f.service);
    if (!service) {
      const runs = this.byName.size === 0 ? 'none' : this.names.join(', ');
      throw new CorralError('UNKNOWN_SERVICE', `this hub does not run the ${f.service} service (it runs: ${runs})`);
    }
    const message = decodeServiceMessage(f);
    checkResourceName(message.resource, service.kinds);
    service.checkResource?.(message.resource);
    const loaded = this.held.get(message.resource);
    if (loaded) {
      this.serve(loaded, message, from);
      return;
    }
    this.open(service, message.resource).then((h) => {
      if ('service' in h) this.serve(h, message, from);
      else from.send(encodeFrame({ type: FrameType.REDIRECT, corr: message.corr, topic: message.resource, hubId: h.hubId, address: h.address, epoch: h.epoch }));
    }).catch((err: unknown) => from.sendError(message.corr, asCorralError(err)));
  }

  private serve(h: Held, message: ServiceMessage, from: ServiceConnection): void {
    if (!h.users.has(from)) {
      h.users.add(from);
      from.onClose(() => h.users.delete(from));
    }
    const reply = (type: number, payload: Buffer): void => from.send(encodeServiceMessage({ type, corr: message.corr, resource: h.resource, payload }));
    let done: Promise<void>;
    try {
      done = Promise.resolve(h.service.handle({ message, owned: h, from, reply }));
    } catch (err) {
      done = Promise.reject(err);
    }
    const tracked = done.catch((err: unknown) => from.sendError(message.corr, asCorralError(err)))
      .finally(() => h.running.delete(tracked));
    h.running.add(tracked);
  }

  private open(service: HubService, resource: string): Promise<Held | RemoteOwner> {
    let p = this.opening.get(resource);
    if (!p) {
      p = this.load(service, resource).finally(() => this.opening.delete(resource));
      this.opening.set(resource, p);
    }
    return p;
  }

  private async load(service: HubService, resource: string): Promise<Held | RemoteOwner> {
    const owner = await this.ownership.acquire(resource);
    if (owner.kind === 'remote') return owner;
    const h: Held = {
      resource, epoch: owner.epoch, service, users: new Set(), running: new Set(), closed: false,
      state: await ResourceState.claim(this.metadata, resource, owner.epoch, () => this.lose(h)),
    };
    await service.gained(h);
    this.held.set(resource, h);
    this.logger.debug({ resource, epoch: owner.epoch }, 'service resource gained');
    return h;
  }

  /** Owned resources with the load each service reports for them. */
  resources(): Array<{ resource: string; load: number }> {
    return [...this.held.values()].map((h) => ({ resource: h.resource, load: h.service.load(h) }));
  }

  /** The load of every owned resource together, in topic units. */
  totalLoad(): number {
    let n = 0;
    for (const h of this.held.values()) n += h.service.load(h);
    return n;
  }

  /**
   * Graceful handoff [P-11.3]: new requests wait, requests being handled
   * finish, the service writes its state, the owner record moves to `to` under
   * a higher epoch, and the resource's connections get an unsolicited
   * REDIRECT. False if the resource stays.
   */
  async handOff(resource: string, to: { hubId: string; address: string }): Promise<boolean> {
    const h = this.held.get(resource);
    if (!h) return false;
    this.held.delete(resource);
    const work = (async (): Promise<Held | RemoteOwner> => {
      try {
        await Promise.all(h.running);
        if (h.closed) return h;
        await h.service.handingOff(h);
        const owner = h.closed ? undefined : await this.ownership.transfer(resource, h.epoch, to);
        if (!owner || owner.kind !== 'remote') return h;
        h.closed = true;
        const redirect = encodeFrame({ type: FrameType.REDIRECT, corr: 0, topic: resource, hubId: owner.hubId, address: owner.address, epoch: owner.epoch });
        for (const c of h.users) c.send(redirect);
        h.service.lost(h);
        return owner;
      } catch (err) {
        this.logger.warn({ err, resource }, 'service resource handoff failed; it stays');
        return h;
      }
    })();
    const p = work.then((r) => {
      if (r !== h) return r;
      if (h.closed) return this.load(h.service, resource);
      this.held.set(resource, h);
      return h;
    }).finally(() => this.opening.delete(resource));
    this.opening.set(resource, p);
    const r = await p;
    return !('service' in r);
  }

  /** Ownership of everything is gone (the cluster lease lapsed): services stop serving at once. */
  dropAll(): void {
    for (const h of [...this.held.values()]) this.lose(h);
  }

  private lose(h: Held): void {
    if (h.closed) return;
    h.closed = true;
    if (this.held.get(h.resource) === h) this.held.delete(h.resource);
    this.logger.warn({ resource: h.resource, epoch: h.epoch }, 'service resource lost');
    h.service.lost(h);
  }

  /** A QUERY kind some service answers, or undefined. */
  query(kind: string, args: string): Promise<unknown> | undefined {
    for (const s of this.byName.values()) {
      const q = s.queries?.[kind];
      if (q) return q(args);
    }
    return undefined;
  }

  /** The service answering a QUERY kind, or undefined. */
  queryService(kind: string): string | undefined {
    for (const s of this.byName.values()) if (s.queries?.[kind]) return s.name;
    return undefined;
  }

  /** Admin route /api/<service>/<route>, or undefined. */
  adminRoute(path: string): (() => Promise<unknown>) | undefined {
    const m = /^\/api\/([a-z]+)\/([a-z0-9-]+)$/.exec(path);
    return m ? this.byName.get(m[1]!)?.routes?.[m[2]!] : undefined;
  }

  /** Refuses new frames from now on (SHUTTING_DOWN). */
  refuse(): void {
    this.stopping = true;
  }

  /** After the sessions stopped sending: lets running requests finish, then stops every service. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.held.values()].flatMap((h) => [...h.running]));
    for (const s of this.byName.values()) await s.stop();
  }
}
