import { createHmac, timingSafeEqual } from 'node:crypto';
import { CorralError } from '../../protocol/corral-error.js';
import { parseTicket } from './gate-frames.js';

/**
 * Signs and checks gate tickets [P-15.3]: `<seq>.<class>.<mac>`, the mac an
 * HMAC-SHA256 (first 128 bits, base64url) under the hubs' gate key of the
 * gate's resource, its salt (new with every creation of the gate, so a
 * ticket of a deleted and re-created gate does not verify) and the ticket's
 * seq and class. A visitor can carry its ticket to any hub; nobody without
 * the key can make one for an earlier place.
 */
export class GateTicketSigner {
  constructor(private readonly key: Buffer) {}

  sign(resource: string, salt: string, seq: number, cls: number): string {
    return `${seq}.${cls}.${this.mac(resource, salt, seq, cls)}`;
  }

  /** The ticket's seq and class; INVALID_TICKET when malformed or not signed with this key for this gate. */
  verify(resource: string, salt: string, ticket: string): { seq: number; cls: number } {
    const t = parseTicket(ticket);
    const want = Buffer.from(this.mac(resource, salt, t.seq, t.cls));
    if (!timingSafeEqual(want, Buffer.from(t.mac))) throw new CorralError('INVALID_TICKET', `the ticket's signature does not verify for ${resource}`);
    return { seq: t.seq, cls: t.cls };
  }

  private mac(resource: string, salt: string, seq: number, cls: number): string {
    return createHmac('sha256', this.key).update(`${resource}|${salt}|${seq}|${cls}`).digest('base64url').slice(0, 22);
  }
}
