import { CorralError } from '../protocol/corral-error.js';
import { encodeFrame } from '../protocol/encode.js';
import { FrameType } from '../protocol/frame-type.js';
import type { SubscribedFrame } from '../protocol/frames.js';
import type { HubConnection, ReplyFrame } from './hub-connection.js';
import { Request } from './request.js';
import type { Subscription } from './subscription.js';

/** Decides what an attach outcome means for its subscription. */
export interface AttachListener {
  attached(req: AttachRequest, conn: HubConnection<Request>, frame: SubscribedFrame): void;
  attachFailed(req: AttachRequest, err: CorralError): void;
}

/** SUBSCRIBE → SUBSCRIBED [P-5.1]: the first attach of a Subscription, or a re-attach after it lost its connection. */
export class AttachRequest extends Request {
  constructor(
    readonly sub: Subscription,
    deadline: number,
    private readonly listener: AttachListener,
    /** Set for the application's subscribe(); a re-attach has none. */
    readonly first?: { resolve(sub: Subscription): void; reject(err: CorralError): void },
  ) {
    super(sub.topic, deadline);
  }

  encode(corr: number): Buffer {
    const sub = this.sub;
    return encodeFrame({
      type: FrameType.SUBSCRIBE, corr, subId: sub.subId, topic: sub.topic, subscription: sub.name,
      start: sub.startPosition(), credit: sub.attachCredit(),
    });
  }

  complete(f: ReplyFrame, conn: HubConnection<Request>): void {
    if ('service' in f || f.type !== FrameType.SUBSCRIBED) {
      this.fail(new CorralError('BAD_FRAME', `hub ${conn.key} answered SUBSCRIBE with frame 0x${f.type.toString(16)}`));
      return;
    }
    this.listener.attached(this, conn, f);
  }

  fail(err: CorralError): void {
    this.listener.attachFailed(this, err);
  }
}
