import { CorralError } from '../protocol/corral-error.js';
import { FrameType } from '../protocol/frame-type.js';
import type { HubConnection, ReplyFrame } from './hub-connection.js';
import { Request } from './request.js';

/**
 * A request answered by OK (UNSUBSCRIBE, CONFIGURE_TOPIC, DETACH) or RESULT
 * (QUERY) [P-1.5]; resolves with undefined or the parsed JSON.
 */
export class ReplyRequest extends Request {
  resolve!: (value: unknown) => void;
  reject!: (err: CorralError) => void;

  constructor(
    topic: string | undefined,
    deadline: number,
    private readonly build: (corr: number) => Buffer,
    private readonly expects: typeof FrameType.OK | typeof FrameType.RESULT,
  ) {
    super(topic, deadline);
  }

  encode(corr: number): Buffer {
    return this.build(corr);
  }

  complete(f: ReplyFrame, conn: HubConnection<Request>): void {
    if ('service' in f) {
      this.reject(new CorralError('BAD_FRAME', `hub ${conn.key} answered with a ${f.service} frame`));
    } else if (f.type === FrameType.OK && this.expects === FrameType.OK) {
      this.resolve(undefined);
    } else if (f.type === FrameType.RESULT && this.expects === FrameType.RESULT) {
      let value: unknown;
      try {
        value = JSON.parse(f.json);
      } catch (err) {
        this.reject(new CorralError('BAD_FRAME', `hub ${conn.key} sent a RESULT that is not JSON`, { cause: err }));
        return;
      }
      this.resolve(value);
    } else {
      this.reject(new CorralError('BAD_FRAME', `hub ${conn.key} answered with unexpected frame 0x${f.type.toString(16)}`));
    }
  }

  fail(err: CorralError): void {
    this.reject(err);
  }
}

/**
 * DETACH [P-5.6] belongs to the connection the subscription is attached on:
 * it is never resent elsewhere, and that connection closing detaches too, so
 * every outcome settles it successfully.
 */
export class DetachRequest extends ReplyRequest {
  override readonly resendable = false;

  override fail(): void {
    this.resolve(undefined);
  }

  override connectionLost(): boolean {
    this.resolve(undefined);
    return true;
  }
}
