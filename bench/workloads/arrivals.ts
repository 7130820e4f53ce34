import { DeliveryAudit } from '../delivery-audit.js';
import { Countdown } from './countdown.js';
import { messageNumber } from './numbered-payload.js';

/**
 * Counts the distinct messages each subscription received toward the
 * workload's total, so a redelivered message never stands in for a lost
 * one; `check` then fails the run on any message missing or out of order.
 */
export class Arrivals {
  private readonly countdown: Countdown;
  private readonly audits = new Map<string, DeliveryAudit>();

  constructor(total: number, what: string) {
    this.countdown = new Countdown(total, what);
  }

  get done(): Promise<void> {
    return this.countdown.done;
  }

  /** A delivery to `subscription` of a payload made by `numberedPayload`. */
  record(subscription: string, payload: Uint8Array): void {
    let audit = this.audits.get(subscription);
    if (!audit) {
      audit = new DeliveryAudit();
      this.audits.set(subscription, audit);
    }
    if (audit.record(messageNumber(payload))) this.countdown.tick();
  }

  check(expected: (subscription: string) => number): void {
    for (const [subscription, audit] of this.audits) audit.check(expected(subscription), subscription);
  }
}
