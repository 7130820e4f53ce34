import type { Logger } from 'pino';
import { pickOwner } from './cluster-ownership.js';
import type { Hub } from './hub.js';
import { loadScore, type HubRecord } from './hub-record.js';
import type { Membership } from './membership.js';

export interface RebalancerOptions {
  intervalMs: number;
  /** Topics one hub hands off per round, so a join does not move everything at once. */
  maxMovesPerRound: number;
}

/** Hand off only when this hub is clearly above the mean and the target clearly below it. */
const ABOVE = 1.2;
const BELOW = 0.8;

/**
 * Continuous load levelling (seed 002: "some of the topics may be moved from
 * existing message processors … to the new message processor"): every round,
 * a hub well above the cluster's mean topic count hands topics to the
 * least-loaded hub, if that one is well below it. Service resources count
 * by the load their service reports for them. The two thresholds leave a
 * dead band, so topics do not ping-pong between hubs of similar load.
 */
export class Rebalancer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly membership: Membership,
    private readonly logger: Logger,
    private readonly opts: RebalancerOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.round()
        .catch((err: unknown) => this.logger.warn({ err }, 'rebalancing round failed'))
        .finally(() => { this.running = undefined; });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async round(): Promise<void> {
    const others = (await this.membership.liveHubs()).filter((h) => h.hubId !== this.hub.hubId);
    if (others.length === 0) return;
    const mine = this.hub.topicCount + this.hub.serviceLoad();
    const mean = (mine + others.reduce((n, h) => n + weight(h), 0)) / (others.length + 1);
    const target = others.reduce((a, b) => (weight(b) < weight(a) ? b : a));
    if (mine <= mean * ABOVE + 1 || weight(target) >= mean * BELOW) return;
    const budget = Math.min(this.opts.maxMovesPerRound, Math.floor(mine - mean), Math.ceil(mean - weight(target)));
    // Topics without attached subscribers move first: nobody has to re-attach.
    // Service resources weigh what their service reports.
    const candidates = [
      ...[...this.hub.topics.all()].map((t) => ({
        cost: 1, attached: [...t.subscriptions.values()].filter((s) => s.attachment).length, move: () => this.hub.handOff(t.name, target),
      })),
      ...this.hub.services.resources().map((r) => ({
        cost: r.load, attached: 0, move: () => this.hub.services.handOff(r.resource, target),
      })),
    ].sort((a, b) => a.attached - b.attached);
    let moved = 0;
    let spent = 0;
    for (const c of candidates) {
      if (spent + c.cost > budget) continue;
      spent += c.cost;
      if (await c.move()) moved++;
    }
    if (moved > 0) this.logger.info({ moved, to: target.hubId, mine, mean: Math.round(mean) }, 'topics and service resources handed off');
  }

  /** Shutdown: every topic and service resource goes to one of the other live hubs, spread as new topics are. */
  async handOffAll(): Promise<void> {
    await this.stop();
    const others: HubRecord[] = (await this.membership.liveHubs()).filter((h) => h.hubId !== this.hub.hubId);
    if (others.length === 0) return;
    const names = [...this.hub.topics.all()].map((t) => t.name);
    const parallel = 16;
    for (let i = 0; i < names.length; i += parallel) {
      await Promise.all(names.slice(i, i + parallel).map((name) => {
        const to = pickOwner(name, others, this.membership.placements);
        if (!to) return false;
        this.membership.placements.record(to.hubId, loadScore(to.load));
        return this.hub.handOff(name, to);
      }));
    }
    // Service resources too: each service writes its state before the record moves.
    await Promise.all(this.hub.services.resources().map(({ resource }) => {
      const to = pickOwner(resource, others);
      return to ? this.hub.services.handOff(resource, to) : false;
    }));
  }
}

/** A hub's load in topic units: its topics plus the load its services report. */
function weight(h: HubRecord): number {
  return h.load.topics + (h.load.services ?? 0);
}
