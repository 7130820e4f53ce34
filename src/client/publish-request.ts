import { CorralError } from '../protocol/corral-error.js';
import { encodePublish } from '../protocol/encode.js';
import { FrameType } from '../protocol/frame-type.js';
import { Duplicate, PUBLISH_ORDER_FEATURE } from '../protocol/frames.js';
import type { HubConnection, ReplyFrame } from './hub-connection.js';
import { Request } from './request.js';

export interface PublishResult {
  /**
   * The message's sequence number in its topic; for a duplicate the
   * original's, or undefined when the hub no longer knows it (the original
   * was trimmed, or is older than the hub's de-duplication window) [P-4.4].
   */
  seq: number | undefined;
  /** The hub had already stored this publish (a retry after a lost connection): it was not stored again. */
  duplicate: boolean;
}

/** PUBLISH → PUBLISH_ACK [P-4.1]. Keeps its bytes until acknowledged so it can be resent. */
export class PublishRequest extends Request {
  resolve!: (r: PublishResult) => void;
  reject!: (err: CorralError) => void;
  /** An attempt may have been stored without its PUBLISH_ACK reaching the client. */
  private inDoubt = false;
  /** The current attempt's frame left for the hub. */
  private onWire = false;
  /** Neighbours among the topic's unsettled publishes (PublishChains) [P-4.6]. */
  before: PublishRequest | undefined;
  behind: PublishRequest | undefined;

  constructor(
    readonly topicName: string,
    deadline: number,
    private readonly payload: Uint8Array,
    private readonly key: Uint8Array | undefined,
    private readonly producerId: string,
    /**
     * [P-4.4] kept on every resend whose outcome is unknown, so the hub stores
     * the message once; the RequestQueue renumbers it only while it cannot have been stored.
     */
    public producerSeq: number,
  ) {
    super(topicName, deadline);
  }

  /**
   * To a hub that orders publishes [P-4.6], each names the unsettled publish
   * made before it on the topic, read at every (re)send: one settled since
   * (stored, or given up) no longer holds this one back.
   */
  encode(corr: number, features: ReadonlySet<string>): Buffer {
    this.onWire = false;
    const afterSeq = features.has(PUBLISH_ORDER_FEATURE) ? this.before?.producerSeq ?? 0 : undefined;
    return encodePublish(corr, this.topicName, this.payload, this.key, this.producerId, this.producerSeq, afterSeq);
  }

  complete(f: ReplyFrame, conn: HubConnection<Request>): void {
    if ('service' in f || f.type !== FrameType.PUBLISH_ACK) {
      this.reject(new CorralError('BAD_FRAME', `hub ${conn.key} answered PUBLISH with frame 0x${f.type.toString(16)}`));
      return;
    }
    if (f.duplicate === Duplicate.NO) this.resolve({ seq: f.seq, duplicate: false });
    // Seqs start at 1: a version 1 hub's "duplicate of seq 0" [P-8.10] is the same answer as ORIGINAL_UNKNOWN.
    else this.resolve({ seq: f.duplicate === Duplicate.YES && f.seq > 0 ? f.seq : undefined, duplicate: true });
  }

  override written(): void {
    this.onWire = true;
  }

  override lostInFlight(): void {
    if (this.onWire) this.inDoubt = true;
  }

  /**
   * A publish that may have been stored is never reported as failed: its
   * error says the outcome is unknown, with the reason as its cause [P-4.4].
   */
  fail(err: CorralError): void {
    if (!this.inDoubt) {
      this.reject(err);
      return;
    }
    this.reject(new CorralError('OUTCOME_UNKNOWN',
      `publish to ${this.topicName} may or may not be stored (producer ${this.producerId}, sequence ${this.producerSeq}): ${err.message}`, { cause: err }));
  }
}
