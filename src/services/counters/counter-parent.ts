import { randomInt } from 'node:crypto';
import { CorralError } from '../../protocol/corral-error.js';
import { encodeServiceMessage } from '../../protocol/service-envelope.js';
import type { OwnedResource, ServiceConnection } from '../../hub/hub-service.js';
import { CounterNode } from './counter-node.js';
import { endedWindows, parseWindow } from './ended-windows.js';
import type { UplinkStart } from './counter-uplink.js';
import {
  checkCounterName, CountersFrame, encodeEntries, parseCounterResource, SYNC_FULL, SYNC_URGENT, type CounterPlace, type Entry,
  type SyncRequest, type TreeView,
} from './counters-frames.js';

/** A member's link to the root, as stored: its incarnation (epoch), last applied SYNC, subscriptions and delivered totals. */
interface StoredLink {
  memberId: string;
  token: number;
  epoch: number;
  seq: number;
  subscribed: string[];
  totals: Record<string, string>;
}

/** The stored state of a partition's root or branch [P-14.9], fenced by the resource's epoch; values are decimal strings. */
interface StoredPartition {
  /** Variable name → token. Tokens are never reused, so a dropped window's token stays unknown rather than naming another variable. */
  tokens?: Record<string, number>;
  /** The last token issued. */
  lastToken?: number;
  /** Before ended windows were dropped, tokens were dense: the variable of token t is `variables[t - 1]`. Read only. */
  variables?: string[];
  /** This node's own contribution per variable: adopted totals of departed members, and at the root SET offsets. */
  root: Record<string, string>;
  links: StoredLink[];
  /** A branch's own link to its parent [P-14.10]: the next owner continues it. */
  up?: UplinkStart;
}

interface Link {
  memberId: string;
  token: number;
  epoch: number;
  seq: number;
  subscribed: Set<string>;
  conn: ServiceConnection | undefined;
}

export interface ExchangeCounts {
  up: number;
  down: number;
  pushed: number;
}

/**
 * The parent side of a counter tree's interior node [P-14] — a partition's
 * root (`PartitionRoot`) or a branch (`CounterBranch`): the hub that owns
 * its resource. It keeps each member's link and delivered totals,
 * answers each SYNC with the parent values that changed for that member, and
 * persists the children's totals in the resource's fenced state before it
 * answers, so a node that dies loses nothing it acknowledged. Writes of
 * concurrent exchanges share one store write.
 */
export class CounterParent {
  protected readonly node = new CounterNode();
  /** A branch's link upward, as last written (the root has none). */
  protected up: UplinkStart | undefined;
  private readonly tokenOf = new Map<string, number>();
  private readonly nameOf = new Map<number, string>();
  private lastToken = 0;
  private readonly links = new Map<string, Link>();
  private readonly byToken = new Map<number, Link>();
  private readonly watched = new WeakSet<ServiceConnection>();
  private queuedWrite: Promise<void> | undefined;
  protected open = true;
  readonly place: CounterPlace;

  constructor(readonly owned: OwnedResource, private readonly hubId: string, private readonly counts: ExchangeCounts) {
    this.place = parseCounterResource(owned.resource);
    if (owned.state.value === undefined) return;
    const stored = JSON.parse(owned.state.value) as StoredPartition;
    this.up = stored.up;
    for (const name of stored.variables ?? []) this.variable(name);
    for (const [name, t] of Object.entries(stored.tokens ?? {})) this.addVariable(name, t);
    this.lastToken = Math.max(this.lastToken, stored.lastToken ?? 0);
    for (const [name, v] of Object.entries(stored.root)) this.node.setLocal(name, BigInt(v));
    for (const s of stored.links) {
      const link: Link = { memberId: s.memberId, token: s.token, epoch: s.epoch, seq: s.seq, subscribed: new Set(s.subscribed), conn: undefined };
      this.addLink(link);
      for (const name of s.subscribed) this.node.subscribe(s.memberId, name);
      for (const [name, v] of Object.entries(s.totals)) this.node.applyChild(s.memberId, name, BigInt(v));
    }
  }

  get partition(): string {
    return this.place.partition;
  }

  /** The branch path (`eu/rack-1`), or undefined at the root. */
  get branch(): string | undefined {
    return this.place.branch.length === 0 ? undefined : this.place.branch.join('/');
  }

  /** `partition` or `partition/branch`, for messages. */
  get where(): string {
    return this.owned.resource.slice('counters|'.length);
  }

  get memberCount(): number {
    return this.links.size;
  }

  get variableCount(): number {
    return this.nameOf.size;
  }

  /** Ownership is gone: nothing more is written or pushed. */
  close(): void {
    this.open = false;
  }

  /**
   * [P-14.2] A new process (epoch 0) gets a fresh link; an older link of the
   * same member id is superseded and its delivered totals adopted by the
   * root (counted once, never lost). A process naming its current epoch gets
   * its link back; naming an older one is LINK_REFUSED.
   */
  async register(memberId: string, epoch: number): Promise<{ token: number; epoch: number }> {
    checkCounterName(memberId, 'member id');
    const old = this.links.get(memberId);
    if (epoch !== 0) {
      if (old?.epoch === epoch) return { token: old.token, epoch };
      throw new CorralError('LINK_REFUSED', old
        ? `member ${memberId} registered again at epoch ${old.epoch}; this incarnation (epoch ${epoch}) is superseded`
        : `member ${memberId} has no link (it left); this incarnation (epoch ${epoch}) is over`);
    }
    if (old) this.dropLink(old);
    const link: Link = { memberId, token: this.newToken(), epoch: (old?.epoch ?? 0) + 1, seq: 0, subscribed: new Set(), conn: undefined };
    this.addLink(link);
    await this.persist();
    return { token: link.token, epoch: link.epoch };
  }

  /** [P-14.3] Variable name → token, stable for the partition's life; the member reads it from now on. */
  async subscribe(token: number, names: readonly string[]): Promise<number[]> {
    const link = this.link(token);
    for (const name of names) checkCounterName(name, 'variable name');
    const known = this.lastToken;
    const tokens = names.map((name) => {
      const t = this.variable(name);
      if (!link.subscribed.has(name)) {
        link.subscribed.add(name);
        this.node.subscribe(link.memberId, name);
      }
      return t;
    });
    if (this.lastToken > known) this.dropEndedWindows(names);
    await this.persist();
    if (this.lastToken > known) await this.newVariables();
    return tokens;
  }

  /**
   * [P-14.11] A new window of a windowed counter arrived: that counter's windows
   * older than the newest WINDOWS_KEPT leave this node with whatever it
   * holds of them (members' totals, its own), written with the next state.
   * Their tokens are not reused: a member's late SYNC entry naming one is skipped.
   */
  private dropEndedWindows(names: readonly string[]): void {
    const counters = new Set(names.map((n) => parseWindow(n)?.counter).filter((c) => c !== undefined));
    const ended = [...counters].flatMap((c) => endedWindows(this.tokenOf.keys(), c));
    if (ended.length === 0) return;
    for (const name of ended) {
      this.nameOf.delete(this.tokenOf.get(name)!);
      this.tokenOf.delete(name);
      this.node.drop(name, true);
      for (const l of this.links.values()) l.subscribed.delete(name);
    }
    this.droppedVariables(ended);
  }

  /** Variables this node dropped (ended windows): a branch stops sending them up. */
  protected droppedVariables(_names: readonly string[]): void {
    // The root has no link upward.
  }

  /** Variables this node did not know were subscribed: a branch subscribes them upward too (claim 14). */
  protected newVariables(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * [P-14.4] One exchange: the member's subtree totals replace the stored
   * ones (a SYNC not above the last applied is a resend and changes
   * nothing), the state is written, and the reply carries the parent values
   * that changed for this member. An urgent SYNC pushes the change on to
   * every other connected member at once.
   */
  async sync(req: SyncRequest, from: ServiceConnection): Promise<Entry[]> {
    const link = this.link(req.token);
    const named: Array<[string, bigint]> = [];
    for (const [t, v] of req.entries) {
      const name = this.nameOf.get(t);
      // A token issued once and gone since: a window this node dropped; what is late for it is dropped too.
      if (name === undefined && t >= 1 && t <= this.lastToken) continue;
      if (name === undefined || !link.subscribed.has(name)) {
        throw new CorralError('UNKNOWN_VARIABLE_TOKEN', `variable token ${t} is ${name === undefined ? 'not issued in' : 'not subscribed by this member of'} counters ${this.where}`);
      }
      named.push([name, v]);
    }
    if (link.conn !== from) {
      // A new connection: whatever went down the old one may not have arrived.
      link.conn = from;
      this.node.resendAll(link.memberId);
      this.watch(from);
    } else if ((req.flags & SYNC_FULL) !== 0) {
      this.node.resendAll(link.memberId);
    }
    if (req.seq > link.seq) {
      for (const [name, v] of named) this.node.applyChild(link.memberId, name, v);
      link.seq = req.seq;
      this.counts.up += named.length;
    }
    await this.persist();
    if ((req.flags & SYNC_URGENT) !== 0) this.urgent(link.memberId);
    return this.takeDown(link);
  }

  /** A member's exchange was urgent [P-14.5]: pass its change on to every other connected member now. */
  protected urgent(from: string): void {
    this.pushAll(from);
  }

  /** Variable name → token (issued on first use, stable for the node's life). */
  protected variable(name: string): number {
    let t = this.tokenOf.get(name);
    if (t === undefined) {
      t = ++this.lastToken;
      this.addVariable(name, t);
    }
    return t;
  }

  private addVariable(name: string, token: number): void {
    this.tokenOf.set(name, token);
    this.nameOf.set(token, name);
    this.lastToken = Math.max(this.lastToken, token);
    this.node.record(name);
  }

  /** [P-14.7] The member leaves: the root adopts its delivered totals. */
  async leave(token: number): Promise<void> {
    this.dropLink(this.link(token));
    await this.persist();
  }

  tree(): TreeView {
    return {
      partition: this.partition, branch: this.branch, hubId: this.hubId, epoch: this.owned.epoch, up: this.upView(),
      variables: [...this.nameOf].map(([token, name]) => {
        const r = this.node.record(name);
        return { name, token, global: r.global().toString(), root: r.local.toString() };
      }),
      members: [...this.links.values()].map((l) => ({
        memberId: l.memberId, epoch: l.epoch, connected: l.conn !== undefined, seq: l.seq, totals: this.totalsOf(l.memberId),
      })),
    };
  }

  /** The whole state, fenced by the resource's epoch; exchanges queued meanwhile share the next write. */
  persist(): Promise<void> {
    if (!this.open) return Promise.reject(new CorralError('NOT_OWNER', `counters ${this.where} left this hub; retry`));
    this.queuedWrite ??= Promise.resolve().then(() => {
      this.queuedWrite = undefined;
      return this.owned.state.write(JSON.stringify(this.snapshot()));
    });
    return this.queuedWrite;
  }

  private snapshot(): StoredPartition {
    const root: Record<string, string> = {};
    for (const name of this.tokenOf.keys()) {
      const v = this.node.record(name).local;
      if (v !== 0n) root[name] = v.toString();
    }
    return {
      tokens: Object.fromEntries(this.tokenOf), lastToken: this.lastToken, root, up: this.up,
      links: [...this.links.values()].map((l) => ({
        memberId: l.memberId, token: l.token, epoch: l.epoch, seq: l.seq, subscribed: [...l.subscribed], totals: this.totalsOf(l.memberId),
      })),
    };
  }

  private totalsOf(memberId: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, r] of this.node.records) {
      const t = r.children.get(memberId);
      if (t !== undefined) out[name] = t.toString();
    }
    return out;
  }

  private takeDown(link: Link): Entry[] {
    const named = this.node.takeDown(link.memberId);
    this.counts.down += named.length;
    return named.map(([name, v]) => [this.tokenOf.get(name)!, v]);
  }

  /** What `corral counters` shows of a branch's link upward. */
  protected upView(): TreeView['up'] {
    return undefined;
  }

  /** PARENT_VALUES to every connected member (but `except`) that has a changed value [P-14.5]. */
  protected pushAll(except: string | undefined): void {
    if (!this.open) return;
    for (const l of this.links.values()) {
      if (l.memberId === except || !l.conn || !this.node.hasDirtyDown(l.memberId)) continue;
      const entries = this.takeDown(l);
      this.counts.pushed += entries.length;
      l.conn.send(encodeServiceMessage({ type: CountersFrame.PARENT_VALUES, corr: 0, resource: this.owned.resource, payload: encodeEntries(entries, l.token) }));
    }
  }

  private watch(conn: ServiceConnection): void {
    if (this.watched.has(conn)) return;
    this.watched.add(conn);
    conn.onClose(() => {
      for (const l of this.links.values()) if (l.conn === conn) l.conn = undefined;
    });
  }

  private link(token: number): Link {
    const l = this.byToken.get(token);
    if (!l) throw new CorralError('UNKNOWN_MEMBER_TOKEN', `member token ${token} is not registered in counters ${this.where}`);
    return l;
  }

  private addLink(l: Link): void {
    this.links.set(l.memberId, l);
    this.byToken.set(l.token, l);
  }

  private dropLink(l: Link): void {
    this.node.adoptChild(l.memberId);
    this.links.delete(l.memberId);
    this.byToken.delete(l.token);
  }

  /** Tokens are random so a token of another partition, or of a superseded link, is not mistaken for a live one. */
  private newToken(): number {
    for (;;) {
      const t = randomInt(1, 0xffffffff);
      if (!this.byToken.has(t)) return t;
    }
  }
}
