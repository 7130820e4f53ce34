import { CorralError } from '../protocol/corral-error.js';
import { decodeServiceMessage, encodeServiceMessage, type ServiceMessage } from '../protocol/service-envelope.js';
import type { HubConnection, ReplyFrame } from './hub-connection.js';
import { Request } from './request.js';

/**
 * A request for a service resource [P-11.1]. Routed by its resource
 * (`<kind>|<name>`, which no topic name can equal) exactly as topic requests
 * are by topic: redirects, handoffs and failover move it the same way.
 */
export class ServiceRequest extends Request {
  resolve!: (m: ServiceMessage) => void;
  reject!: (err: CorralError) => void;

  constructor(
    readonly type: number,
    readonly resource: string,
    private readonly payload: Buffer,
    deadline: number,
  ) {
    super(resource, deadline);
  }

  encode(corr: number): Buffer {
    return encodeServiceMessage({ type: this.type, corr, resource: this.resource, payload: this.payload });
  }

  complete(f: ReplyFrame, conn: HubConnection<Request>): void {
    if (!('service' in f)) {
      this.reject(new CorralError('BAD_FRAME', `hub ${conn.key} answered a service request with frame 0x${f.type.toString(16)}`));
      return;
    }
    try {
      this.resolve(decodeServiceMessage(f));
    } catch (err) {
      this.reject(err instanceof CorralError ? err : new CorralError('BAD_FRAME', String(err)));
    }
  }

  fail(err: CorralError): void {
    this.reject(err);
  }

  /** Every retryable error is worth another attempt: the service said so [P-9.1]. */
  override retriesOn(err: CorralError): boolean {
    return err.retryable;
  }
}
