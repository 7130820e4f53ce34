import { CorralError } from '../protocol/corral-error.js';
import { FrameType } from '../protocol/frame-type.js';
import type { Frame } from '../protocol/frames.js';
import type { Principal } from './access-control.js';

/**
 * Refuses a request its client's credential does not permit (docs/security.md),
 * before the hub acts on it. Frames about an attachment (CREDIT, ACK, DETACH)
 * were permitted when it was subscribed. `queryService` names the service
 * that answers a QUERY kind, if one does.
 */
export function authorize(p: Principal, f: Frame, queryService: (kind: string) => string | undefined): void {
  if (p.admin) return;
  if ('service' in f) {
    if (!p.mayUseService(f.service)) throw forbidden(p, `use the ${f.service} service`);
    return;
  }
  switch (f.type) {
    case FrameType.PUBLISH:
      if (!p.mayPublish(f.topic)) throw forbidden(p, `publish to topic ${f.topic}`);
      return;
    case FrameType.SUBSCRIBE:
    case FrameType.UNSUBSCRIBE:
      if (!p.maySubscribe(f.topic)) throw forbidden(p, `subscribe to topic ${f.topic}`);
      return;
    case FrameType.CONFIGURE_TOPIC:
    case FrameType.DELETE_TOPIC:
      throw forbidden(p, `manage topic ${f.topic} (an admin credential may)`);
    case FrameType.QUERY: {
      const service = queryService(f.kind);
      if (service === undefined || !p.mayUseService(service)) throw forbidden(p, `query ${f.kind}${service === undefined ? ' (an admin credential may)' : ''}`);
      return;
    }
    default:
  }
}

function forbidden(p: Principal, what: string): CorralError {
  return new CorralError('FORBIDDEN', `credential ${JSON.stringify(p.name)} may not ${what}`);
}
