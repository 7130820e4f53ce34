import type { Logger } from 'pino';
import type { Client } from '../../client/client.js';
import type { OwnedResource } from '../../hub/hub-service.js';
import type { PeerAccess } from '../../hub/peer-access.js';
import { CorralError, isCorralError } from '../../protocol/corral-error.js';
import { CounterParent, type ExchangeCounts } from './counter-parent.js';
import { CounterUplink } from './counter-uplink.js';
import { BRANCH_MEMBER_PREFIX, parentResource, type TreeView } from './counters-frames.js';
import { linkFailureHint } from './link-failure-hint.js';

/**
 * Retry delays for a branch whose parent cannot be reached or refuses it:
 * short while its owner fails over (a retryable error), doubling up to a
 * few seconds for a refusal that waits on an operator, so a refused hub is
 * not hammered.
 */
const RELINK_FIRST_MS = 200;
const RELINK_MAX_MS = 5000;

/** How a branch reaches its parent: the client of the cluster its hub's services share, and how often it exchanges. */
export interface BranchLink {
  client: Client;
  syncIntervalMs: number;
  logger: Logger;
  /** This hub's credential toward the other hubs, for the advice a refusal logs. */
  peer: PeerAccess;
}

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
  private readonly logger: Logger;
  private retry: NodeJS.Timeout | undefined;
  private relinkDelayMs = RELINK_FIRST_MS;
  /** Why the last registration or exchange upward failed; cleared by the next that succeeds. */
  private linkError: CorralError | undefined;

  constructor(owned: OwnedResource, hubId: string, counts: ExchangeCounts, private readonly reach: BranchLink) {
    super(owned, hubId, counts);
    this.logger = reach.logger;
    this.uplink = new CounterUplink(reach.client, parentResource(this.place), this.memberId, this.node, {
      beforeSend: async (seq, epoch) => {
        // Written (and fenced) before the SYNC leaves: a successor starts above every seq this owner sent.
        this.up = { epoch, seq };
        await this.persist();
      },
      applied: (_names, urgent) => { if (urgent) this.pushAll(undefined); },
      exchanged: () => this.linked(),
      failed: (err) => {
        if (this.uplink.stopped && this.open) {
          this.linkError = err;
          this.logger.error({ err, branch: this.where }, 'counter branch link superseded at its parent; the branch no longer reports up');
          return;
        }
        this.linkFailed(err);
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

  /** Windows this branch dropped are no longer sent up, nor read from the parent. */
  protected override droppedVariables(names: readonly string[]): void {
    for (const name of names) this.uplink.forget(name);
  }

  protected override upView(): TreeView['up'] {
    const error = this.linkError === undefined ? undefined
      : { code: this.linkError.code, message: `${this.linkError.message}; ${linkFailureHint(this.linkError, this.reach.peer)}` };
    return {
      parent: parentResource(this.place), memberId: this.memberId, epoch: this.uplink.linkEpoch, seq: this.up?.seq ?? 0, stats: this.uplink.stats(), error,
    };
  }

  /** Registers upward (under the stored epoch: the same link) until it succeeds or the branch closes. */
  private linkUp(): void {
    this.uplink.open(this.reach.syncIntervalMs).then(() => this.linked(), (err: unknown) => {
      if (!this.open) return;
      const e = isCorralError(err) ? err : new CorralError('INTERNAL', 'counter branch registration failed', { cause: err });
      this.linkFailed(e);
      const delay = e.retryable ? RELINK_FIRST_MS : this.relinkDelayMs;
      this.relinkDelayMs = e.retryable ? RELINK_FIRST_MS : Math.min(RELINK_MAX_MS, delay * 2);
      this.retry = setTimeout(() => this.linkUp(), delay);
      this.retry.unref();
    });
  }

  private linked(): void {
    if (this.linkError !== undefined) this.logger.info({ branch: this.where }, `counter branch ${this.where} linked to its parent`);
    this.linkError = undefined;
    this.relinkDelayMs = RELINK_FIRST_MS;
  }

  /**
   * A refusal that no retry ends (a credential or certificate the parent's
   * hub rejects) is logged at error level with what to change, once per
   * reason; failures that heal by themselves (the parent's owner failing
   * over) stay at debug. Either way the branch's tree shows it [P-14.10].
   */
  private linkFailed(err: CorralError): void {
    const again = this.linkError?.code === err.code;
    this.linkError = err;
    const parent = parentResource(this.place);
    if (err.retryable || again) {
      this.logger.debug({ err, branch: this.where, parent }, 'counter branch exchange with its parent failed; retrying');
      return;
    }
    this.logger.error({ err, branch: this.where, parent },
      `counter branch ${this.where} cannot link to its parent ${parent}: ${linkFailureHint(err, this.reach.peer)}; retrying`);
  }
}
