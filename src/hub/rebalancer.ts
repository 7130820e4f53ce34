import type { Logger } from 'pino';
import { pickOwner } from './cluster-ownership.js';
import type { Hub } from './hub.js';
import type { HubRecord } from './hub-record.js';
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
 * least-loaded hub, if that one is well below it. The two thresholds leave a
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
    const mine = this.hub.topicCount;
    const mean = (mine + others.reduce((n, h) => n + h.load.topics, 0)) / (others.length + 1);
    const target = others.reduce((a, b) => (b.load.topics < a.load.topics ? b : a));
    if (mine <= mean * ABOVE + 1 || target.load.topics >= mean * BELOW) return;
    const count = Math.min(this.opts.maxMovesPerRound, Math.floor(mine - mean), Math.ceil(mean - target.load.topics));
    // Topics without attached subscribers move first: nobody has to re-attach.
    const candidates = [...this.hub.topics.all()]
      .map((t) => ({ name: t.name, attached: [...t.subscriptions.values()].filter((s) => s.attachment).length }))
      .sort((a, b) => a.attached - b.attached)
      .slice(0, count);
    let moved = 0;
    for (const c of candidates) if (await this.hub.handOff(c.name, target)) moved++;
    if (moved > 0) this.logger.info({ moved, to: target.hubId, mine, mean: Math.round(mean) }, 'topics handed off');
  }

  /** Shutdown: every topic goes to one of the other live hubs, spread as new topics are. */
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
        this.membership.placements.record(to.hubId);
        return this.hub.handOff(name, to);
      }));
    }
  }
}
