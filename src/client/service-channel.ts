import { EventEmitter } from 'node:events';
import { CorralError } from '../protocol/corral-error.js';
import { serviceRangeOf } from '../protocol/frame-type.js';
import type { ServiceMessage } from '../protocol/service-envelope.js';
import { ServiceRequest } from './service-request.js';

export interface ServiceChannelEvents {
  /** A frame the hub pushed unasked (a watch firing, a schedule changing). */
  push: [message: ServiceMessage];
}

/** What a channel needs of its client. */
export interface ServiceChannelHost {
  /** Queues the request on the client's routing; rejects like any request. */
  submitService(channel: ServiceChannel, req: ServiceRequest): void;
}

/**
 * One service's client channel [P-11.1], from `client.service(name)`: sends
 * requests for the service's resources and resolves with the reply frame;
 * frames the hub pushes come out as `push` events. A service's client code
 * (`src/services/<name>/…-client.ts`) wraps it in a typed API.
 */
export class ServiceChannel extends EventEmitter<ServiceChannelEvents> {
  constructor(
    readonly name: string,
    private readonly host: ServiceChannelHost,
    private readonly requestTimeoutMs: number,
  ) {
    super();
  }

  /** Sends a `type` frame for `resource` (`<kind>|<name>`); resolves with the service's reply. */
  request(type: number, resource: string, payload: Buffer = Buffer.alloc(0)): Promise<ServiceMessage> {
    if (serviceRangeOf(type)?.service !== this.name) {
      return Promise.reject(new CorralError('INVALID_ARGUMENT', `frame type 0x${type.toString(16)} is not in the ${this.name} service's range`));
    }
    const req = new ServiceRequest(type, resource, payload, Date.now() + this.requestTimeoutMs);
    const promise = new Promise<ServiceMessage>((resolve, reject) => {
      req.resolve = resolve;
      req.reject = reject;
    });
    this.host.submitService(this, req);
    return promise;
  }
}
