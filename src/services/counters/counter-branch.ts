import type { Logger } from 'pino';
import type { Client } from '../../client/client.js';
import type { OwnedResource } from '../../hub/hub-service.js';
import { CounterParent, type ExchangeCounts } from './counter-parent.js';
import { CounterUplink } from './counter-uplink.js';
import { BRANCH_MEMBER_PREFIX, parentResource, type TreeView } from './counters-frames.js';

/** Retry delay for a branch whose parent cannot be reached yet (its owner failing over). */
const RELINK_DELAY_MS = 200;

/**
 * An interior node of a partition's counter tree on the network [P-14.10]:
 * the hub that owns `counters|<partition>/<branch>`. Downward it is a parent
 * like the root (members' links and delivered totals, stored and fenced);
 * upward it is ONE member of its parent (`branch:<path>`), sending its
 * subtree's totals and receiving everything but its subtree — seed 000's
 * interior member, claims 1–4. Its link (epoch and last SYNC seq) is stored
 * with its state before each upward SYNC leaves, so when its hub dies the
 * next owner continues the same link: a stale owner's later SYNCs carry
 * lower seqs and are ignored as resends, and totals make any resend harmless.
 */
export class CounterBranch extends CounterParent {
  private readonly uplink: CounterUplink;
  private retry: NodeJS.Timeout | undefined;

  constructor(owned: OwnedResource, hubId: string, counts: ExchangeCounts, client: Client, private readonly syncIntervalMs: number, private readonly logger: Logger) {
    super(owned, hubId, counts);
    this.uplink = new CounterUplink(client, parentResource(this.place), this.memberId, this.node, {
      beforeSend: async (seq, epoch) => {
        // Written (and fenced) before the SYNC leaves: a successor starts above every seq this owner sent.
        this.up = { epoch, seq };
        await this.persist();
      },
      applied: (_names, urgent) => { if (urgent) this.pushAll(undefined); },
      failed: (err) => {
        this.logger.debug({ err, branch: this.where }, 'counter branch exchange with its parent failed; retrying');
        if (this.uplink.stopped && this.open) {
          this.logger.error({ err, branch: this.where }, 'counter branch link superseded at its parent; the branch no longer reports up');
        }
      },
    }, this.up ?? { epoch: 0, seq: 0 });
    this.linkUp();
  }

  /** Its member id in its parent. */
  get memberId(): string {
    return `${BRANCH_MEMBER_PREFIX}${this.branch!}`;
  }

  override close(): void {
    super.close();
    clearTimeout(this.retry);
    this.uplink.stop();
  }

  /** A member's urgent change goes to the branch's other members now, and up at once, flagged urgent too. */
  protected override urgent(from: string): void {
    super.urgent(from);
    if (this.uplink.stopped) return;
    this.uplink.markUrgent();
    this.uplink.sync().catch(() => undefined);
  }

  /**
   * Subscriptions travel up to the root (claim 14) before the member's
   * SUBSCRIBE is answered, so urgent changes elsewhere reach it from then
   * on; an unreachable parent does not fail it (the next exchange retries).
   */
  protected override async newVariables(): Promise<void> {
    if (this.uplink.stopped) return;
    await this.uplink.sync().catch(() => undefined);
  }

  protected override upView(): TreeView['up'] {
    return { parent: parentResource(this.place), memberId: this.memberId, epoch: this.uplink.linkEpoch, seq: this.up?.seq ?? 0, stats: this.uplink.stats() };
  }

  /** Registers upward (under the stored epoch: the same link) until it succeeds or the branch closes. */
  private linkUp(): void {
    this.uplink.open(this.syncIntervalMs).catch((err: unknown) => {
      if (!this.open) return;
      this.logger.debug({ err, branch: this.where }, 'counter branch cannot register with its parent yet; retrying');
      this.retry = setTimeout(() => this.linkUp(), RELINK_DELAY_MS);
      this.retry.unref();
    });
  }
}
