import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { Client } from '../../client/client.js';
import { tcpTransport, tlsTransport } from '../../client/transport.js';
import { CorralError } from '../../protocol/corral-error.js';
import type { HubContext, HubService, OwnedResource, ServiceRequest } from '../../hub/hub-service.js';
import { CounterBranch } from './counter-branch.js';
import type { CounterParent, ExchangeCounts } from './counter-parent.js';
import {
  CountersFrame, decodeRegister, decodeSet, decodeSubscribe, decodeSync, decodeToken, encodeEntries, encodeRegistered,
  encodeSetDone, encodeSubscribed, parseCounterResource, type TreeView,
} from './counters-frames.js';
import { PartitionRoot } from './partition-root.js';

export interface CountersServiceOptions {
  /** How often a branch this hub owns exchanges with its parent (default 100 ms). */
  branchSyncIntervalMs?: number;
}

/** The loopback's placeholder address: the branches' client reaches other hubs only by their redirects. */
const LOOPBACK = { host: 'loopback.invalid', port: 1 };

/**
 * Tree counters [P-14] (seed 000): the hub that owns `counters|<partition>`
 * is the root of that partition's tree, the hub that owns
 * `counters|<partition>/<branch>` an interior node of it [P-14.10]; client
 * processes are members of either. State lives in the resource's fenced
 * state, so a root or branch moves intact to another hub when its owner dies
 * or hands it off; a branch reaches its parent as a client of the cluster,
 * through this hub's loopback connection and the redirects it gets, with
 * the hub's peer credential (`HubContext.peer`).
 */
export class CountersService implements HubService {
  readonly name = 'counters';
  readonly kinds = ['counters'];
  private readonly roots = new Map<string, CounterParent>();
  private readonly counts: ExchangeCounts = { up: 0, down: 0, pushed: 0 };
  private hubId = '';
  private syncs: Counter | undefined;
  private ctx: HubContext | undefined;
  private logger: Logger | undefined;
  private client: Promise<Client> | undefined;

  constructor(private readonly opts: CountersServiceOptions = {}) {}

  readonly queries = { counters: (): Promise<unknown> => Promise.resolve(this.partitions()) };
  readonly routes = { partitions: (): Promise<unknown> => Promise.resolve(this.partitions()) };

  start(ctx: HubContext): Promise<void> {
    this.hubId = ctx.hubId;
    this.ctx = ctx;
    this.logger = ctx.logger.child({ service: 'counters' });
    this.syncs = new Counter({ name: 'corral_counters_syncs_total', help: 'Counter SYNC exchanges answered as a partition root', registers: [ctx.metrics] });
    const counts = this.counts;
    new Counter({
      name: 'corral_counters_entries_total', help: 'Counter values exchanged with members: up (totals received), down (replies), pushed', labelNames: ['direction'], registers: [ctx.metrics],
      collect() {
        this.reset();
        this.inc({ direction: 'up' }, counts.up);
        this.inc({ direction: 'down' }, counts.down);
        this.inc({ direction: 'pushed' }, counts.pushed);
      },
    });
    const roots = this.roots;
    new Gauge({
      name: 'corral_counters_members', help: 'Members linked to the partitions this hub is root of', registers: [ctx.metrics],
      collect() { this.set([...roots.values()].reduce((n, r) => n + r.memberCount, 0)); },
    });
    new Gauge({
      name: 'corral_counters_variables', help: 'Variables of the partitions this hub is root of', registers: [ctx.metrics],
      collect() { this.set([...roots.values()].reduce((n, r) => n + r.variableCount, 0)); },
    });
    return Promise.resolve();
  }

  /** Partition and branch names are checked before the hub takes ownership of anything. */
  checkResource(resource: string): void {
    parseCounterResource(resource);
  }

  async gained(owned: OwnedResource): Promise<void> {
    if (parseCounterResource(owned.resource).branch.length === 0) {
      this.roots.set(owned.resource, new PartitionRoot(owned, this.hubId, this.counts));
      return;
    }
    const client = await this.peerClient();
    this.roots.set(owned.resource, new CounterBranch(owned, this.hubId, this.counts, {
      client, syncIntervalMs: this.opts.branchSyncIntervalMs ?? 100, logger: this.logger!, peer: this.ctx!.peer,
    }));
  }

  async handingOff(owned: OwnedResource): Promise<void> {
    // Every exchange already wrote its state before answering; this flushes nothing new but waits for the last write.
    await this.roots.get(owned.resource)?.persist();
  }

  lost(owned: OwnedResource): void {
    const r = this.roots.get(owned.resource);
    if (r?.owned !== owned) return;
    r.close();
    this.roots.delete(owned.resource);
  }

  async handle(req: ServiceRequest): Promise<void> {
    const { message, owned } = req;
    const root = this.roots.get(owned.resource);
    if (root?.owned !== owned) throw new CorralError('NOT_OWNER', `${owned.resource} left this hub; retry`);
    switch (message.type) {
      case CountersFrame.REGISTER: {
        const r = decodeRegister(message.payload);
        const link = await root.register(r.memberId, r.epoch);
        req.reply(CountersFrame.REGISTERED, encodeRegistered(link.token, link.epoch));
        return;
      }
      case CountersFrame.SUBSCRIBE: {
        const s = decodeSubscribe(message.payload);
        req.reply(CountersFrame.SUBSCRIBED, encodeSubscribed(await root.subscribe(s.token, s.names)));
        return;
      }
      case CountersFrame.SYNC: {
        const entries = await root.sync(decodeSync(message.payload), req.from);
        this.syncs?.inc();
        req.reply(CountersFrame.SYNC_REPLY, encodeEntries(entries));
        return;
      }
      case CountersFrame.SET: {
        if (!(root instanceof PartitionRoot)) {
          throw new CorralError('NOT_A_ROOT', `SET goes to the partition's root, counters|${root.partition}, not to branch ${root.where}`);
        }
        const s = decodeSet(message.payload);
        const done = await root.set(s.name, s.value);
        req.reply(CountersFrame.SET_DONE, encodeSetDone(done.token, done.previous));
        return;
      }
      case CountersFrame.LEAVE:
        await root.leave(decodeToken(message.payload));
        req.reply(CountersFrame.LEFT, Buffer.alloc(0));
        return;
      case CountersFrame.TREE:
        req.reply(CountersFrame.TREE_REPLY, Buffer.from(JSON.stringify(root.tree())));
        return;
      default:
        throw new CorralError('UNKNOWN_FRAME_TYPE', `the counters service has no request frame 0x${message.type.toString(16)}`);
    }
  }

  load(owned: OwnedResource): number {
    // A partition's work grows with its members: each syncs once per interval.
    return 1 + (this.roots.get(owned.resource)?.memberCount ?? 0) / 10;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.roots.values()].map((r) => r.persist().catch(() => undefined)));
    for (const r of this.roots.values()) r.close();
    const client = this.client;
    this.client = undefined;
    await client?.then((c) => c.close()).catch(() => undefined);
  }

  /**
   * The client the branches on this hub link up through; it enters the
   * cluster at this hub and follows redirects to the other hubs, presenting
   * this hub's peer token there and, in a TLS cluster, verifying them.
   */
  private peerClient(): Promise<Client> {
    const ctx = this.ctx!;
    const toPeer = ctx.peer.tls === undefined ? tcpTransport : tlsTransport({ ca: ctx.peer.tls.ca });
    this.client ??= Client.connect(`corral://${LOOPBACK.host}:${LOOPBACK.port}`, {
      name: `counters-branches@${this.hubId}`,
      token: ctx.peer.token,
      transport: (a) => (a.host === LOOPBACK.host && a.port === LOOPBACK.port ? ctx.loopback() : toPeer(a)),
      reconnect: { initialDelayMs: 50, maxDelayMs: 1000 },
    });
    return this.client;
  }

  private partitions(): { hubId: string; partitions: TreeView[] } {
    return { hubId: this.hubId, partitions: [...this.roots.values()].map((r) => r.tree()) };
  }
}
