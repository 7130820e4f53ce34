import type { Client } from '../../client/client.js';
import type { ServiceChannel } from '../../client/service-channel.js';
import { CorralError, isCorralError } from '../../protocol/corral-error.js';
import type { ServiceMessage } from '../../protocol/service-envelope.js';
import type { CounterNode, NamedEntry } from './counter-node.js';
import {
  CountersFrame, decodeParentValues, decodeRegistered, decodeSubscribed, decodeSyncReply, encodeRegister, encodeSubscribe,
  encodeSync, encodeToken, MAX_BATCH, SYNC_FULL, SYNC_URGENT, type Entry,
} from './counters-frames.js';

/** What a link exchanged, for tests and benchmarks: frames and bytes on the wire each way. */
export interface CountersStats {
  syncs: number;
  bytesUp: number;
  bytesDown: number;
  entriesUp: number;
  entriesDown: number;
  pushes: number;
}

/** Where a link resumes: a new process starts at epoch 0; a branch's new owner continues its stored link. */
export interface UplinkStart {
  epoch: number;
  seq: number;
}

/** What the member on the lower end of the link does around an exchange. */
export interface UplinkHooks {
  /** Just before the totals are taken (a member sums its thread slots). */
  prepare?(): void;
  /** Before a SYNC that carries totals leaves, with its seq (a branch writes seq and epoch to its fenced state first). */
  beforeSend?(seq: number, epoch: number): Promise<void>;
  /** Parent values arrived and were applied to the node; `urgent`: pushed unasked, or the reply to an urgent SYNC. */
  applied(names: readonly string[], urgent: boolean): void;
  /** An exchange completed: every change taken before it was delivered. */
  exchanged?(): void;
  /** A background exchange failed; after LINK_REFUSED the link has stopped. */
  failed(err: CorralError): void;
}

/**
 * One member's link to its parent in a counter tree [P-14], over a client's
 * service channel: register (member id → token), subscribe (variable →
 * token), and the exchange — the node's changed subtree totals go up, the
 * parent values that changed for this member come down (seed 000, claims
 * 1–4, 12–14). A client process (`Counters`) and a branch hub
 * (`CounterBranch`) both reach their parent through it.
 */
export class CounterUplink {
  private readonly channel: ServiceChannel;
  private readonly tokens = new Map<string, number>();
  private readonly names = new Map<number, string>();
  private readonly stat: CountersStats = { syncs: 0, bytesUp: 0, bytesDown: 0, entriesUp: 0, entriesDown: 0, pushes: 0 };
  private readonly frameOverhead: number;
  private token = 0;
  private epoch: number;
  private seq: number;
  private full = true;
  private urgent = false;
  private stoppedFlag = false;
  private timer: NodeJS.Timeout | undefined;
  private queued: Promise<void> | undefined;
  /** The registration `open` started: an exchange waits for it, so an early one cannot register a second incarnation. */
  private registered: Promise<void> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly onPush = (m: ServiceMessage): void => this.pushed(m);
  private readonly onReconnect = (): void => { this.full = true; };

  constructor(
    private readonly client: Client,
    readonly resource: string,
    readonly memberId: string,
    private readonly node: CounterNode,
    private readonly hooks: UplinkHooks,
    start: UplinkStart = { epoch: 0, seq: 0 },
  ) {
    this.channel = client.service('counters');
    this.epoch = start.epoch;
    this.seq = start.seq;
    // A frame: u32 length, u8 type, u32 corr, the resource as str, then the payload [P-11.1].
    this.frameOverhead = 5 + 4 + 2 + Buffer.byteLength(resource);
  }

  /** Registers (claims 12–14) and exchanges every `intervalMs` from then on. */
  async open(intervalMs: number): Promise<void> {
    this.registered = this.register();
    try {
      await this.registered;
    } catch (err) {
      this.registered = undefined;
      throw err;
    }
    this.channel.on('push', this.onPush);
    this.client.on('reconnect', this.onReconnect);
    this.timer = setInterval(() => { this.sync().catch(() => undefined); }, intervalMs);
    this.timer.unref();
  }

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** The link's incarnation at the parent (0 before the first registration). */
  get linkEpoch(): number {
    return this.epoch;
  }

  stats(): CountersStats {
    return { ...this.stat };
  }

  /** The next exchange is flagged urgent: the parent passes it on at once [P-14.5]. */
  markUrgent(): void {
    this.urgent = true;
  }

  /** One exchange now (exchanges run one at a time; calls meanwhile share the next). */
  sync(): Promise<void> {
    if (this.stoppedFlag) return Promise.reject(new CorralError('CLIENT_CLOSED', `member ${this.memberId} has stopped`));
    this.queued ??= this.chain.then(() => {
      this.queued = undefined;
      return this.exchange();
    });
    this.chain = this.queued.catch(() => undefined);
    return this.queued;
  }

  /** A last exchange, then LEAVE: the parent adopts this member's totals [P-14.7]. */
  async close(): Promise<void> {
    if (this.stoppedFlag) return;
    clearInterval(this.timer);
    try {
      await this.sync();
      await this.channel.request(CountersFrame.LEAVE, this.resource, encodeToken(this.token));
    } finally {
      this.stop();
    }
  }

  /** The member no longer reads `name`: values the parent still sends for it are ignored (the parent keeps its total). */
  forget(name: string): void {
    const t = this.tokens.get(name);
    if (t === undefined) return;
    this.tokens.delete(name);
    this.names.delete(t);
  }

  /** Stops exchanging; the parent keeps the link and what it delivered. */
  stop(): void {
    this.stoppedFlag = true;
    clearInterval(this.timer);
    this.channel.off('push', this.onPush);
    this.client.off('reconnect', this.onReconnect);
  }

  private async register(): Promise<void> {
    const reply = await this.channel.request(CountersFrame.REGISTER, this.resource, encodeRegister(this.memberId, this.epoch));
    const r = decodeRegistered(reply.payload);
    this.token = r.token;
    this.epoch = r.epoch;
  }

  private async exchange(): Promise<void> {
    if (this.registered === undefined) throw new CorralError('NOT_OWNER', `member ${this.memberId} is not registered with ${this.resource} yet; retry`);
    await this.registered;
    try {
      await this.subscribeNew();
      this.hooks.prepare?.();
      const up = this.node.takeUp();
      let sent = 0;
      try {
        // One SYNC per MAX_BATCH entries; the last (or only) one may be empty: it still fetches the parent values.
        do {
          const batch = up.slice(sent, sent + MAX_BATCH);
          await this.syncBatch(batch);
          sent += batch.length;
        } while (sent < up.length);
      } catch (err) {
        this.node.upFailed(up.slice(sent));
        throw err;
      }
      this.hooks.exchanged?.();
    } catch (err) {
      const e = isCorralError(err) ? err : new CorralError('INTERNAL', 'counter exchange failed', { cause: err });
      this.full = true;
      if (e.code === 'UNKNOWN_MEMBER_TOKEN') await this.relink();
      this.hooks.failed(e);
      throw e;
    }
  }

  /** The parent no longer knows this token: ask for the link back under this epoch; a newer incarnation means stop. */
  private async relink(): Promise<void> {
    try {
      await this.register();
    } catch (err) {
      if (isCorralError(err, 'LINK_REFUSED')) this.stop();
    }
  }

  private async subscribeNew(): Promise<void> {
    const fresh = [...this.node.records.keys()].filter((n) => !this.tokens.has(n));
    for (let i = 0; i < fresh.length; i += MAX_BATCH) {
      const names = fresh.slice(i, i + MAX_BATCH);
      const reply = await this.channel.request(CountersFrame.SUBSCRIBE, this.resource, encodeSubscribe(this.token, names));
      decodeSubscribed(reply.payload).forEach((t, j) => {
        this.tokens.set(names[j]!, t);
        this.names.set(t, names[j]!);
      });
      this.full = true;
    }
  }

  private async syncBatch(batch: readonly NamedEntry[]): Promise<void> {
    const flags = (this.full ? SYNC_FULL : 0) | (this.urgent ? SYNC_URGENT : 0);
    this.full = false;
    this.urgent = false;
    const entries: Entry[] = batch.map(([name, v]) => [this.tokens.get(name)!, v]);
    // An empty SYNC only fetches parent values: it repeats the last seq (the parent applies nothing), so it needs no write first.
    const seq = entries.length > 0 ? ++this.seq : this.seq;
    if (entries.length > 0) await this.hooks.beforeSend?.(seq, this.epoch);
    const payload = encodeSync({ token: this.token, seq, flags, entries });
    this.stat.bytesUp += this.frameOverhead + payload.length;
    this.stat.entriesUp += entries.length;
    const reply = await this.channel.request(CountersFrame.SYNC, this.resource, payload);
    this.stat.syncs++;
    this.stat.bytesDown += this.frameOverhead + reply.payload.length;
    this.applyParents(decodeSyncReply(reply.payload), (flags & SYNC_URGENT) !== 0);
  }

  private pushed(m: ServiceMessage): void {
    if (m.resource !== this.resource || m.type !== CountersFrame.PARENT_VALUES) return;
    const p = decodeParentValues(m.payload);
    if (p.token !== this.token) return;
    this.stat.pushes++;
    this.stat.bytesDown += this.frameOverhead + m.payload.length;
    this.applyParents(p.entries, true);
  }

  private applyParents(entries: readonly Entry[], urgent: boolean): void {
    this.stat.entriesDown += entries.length;
    const names: string[] = [];
    for (const [t, v] of entries) {
      const name = this.names.get(t);
      if (name === undefined) continue;
      this.node.applyParent(name, v);
      names.push(name);
    }
    if (names.length > 0) this.hooks.applied(names, urgent);
  }
}
