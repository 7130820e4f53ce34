import { createHash, timingSafeEqual } from 'node:crypto';
import { CorralError } from '../protocol/corral-error.js';

/**
 * One client credential of `corral start --credentials` (docs/security.md):
 * a secret token (or its SHA-256, so the file need not hold the secret) and
 * what its holder may do. A topic pattern is a topic name, a prefix ending
 * in `*` (`orders.*`), or `*` for every topic.
 */
export interface CredentialSpec {
  name: string;
  token?: string;
  tokenSha256?: string;
  publish?: string[];
  subscribe?: string[];
  /** Services whose requests it may send (`clock`, `gates`, …), or `*`. */
  services?: string[];
  /** Manage topics (retention, delete), QUERY, and the admin HTTP API; implies every other permission. */
  admin?: boolean;
}

/** What an authenticated client may do. */
export class Principal {
  constructor(
    readonly name: string,
    private readonly spec: Readonly<CredentialSpec>,
  ) {}

  get admin(): boolean {
    return this.spec.admin === true;
  }

  mayPublish(topic: string): boolean {
    return this.admin || matchesAny(this.spec.publish, topic);
  }

  maySubscribe(topic: string): boolean {
    return this.admin || matchesAny(this.spec.subscribe, topic);
  }

  mayUseService(service: string): boolean {
    return this.admin || (this.spec.services ?? []).some((s) => s === '*' || s === service);
  }
}

function matchesAny(patterns: readonly string[] | undefined, topic: string): boolean {
  return (patterns ?? []).some((p) => (p.endsWith('*') ? topic.startsWith(p.slice(0, -1)) : topic === p));
}

/** The principal of a hub that requires no credential: everyone may do everything. */
export const ANYONE = new Principal('anyone', { name: 'anyone', admin: true });

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * The hub's credentials. Tokens are compared as SHA-256 digests with
 * `timingSafeEqual`, against every credential, so neither the time taken nor
 * an early exit tells a guesser a token's length or which one came close.
 */
export class AccessControl {
  private readonly entries: Array<{ digest: Buffer; principal: Principal }>;

  constructor(specs: readonly CredentialSpec[]) {
    const names = new Set<string>();
    this.entries = specs.map((spec, i) => {
      const where = `credential ${i + 1}${typeof spec.name === 'string' ? ` (${spec.name})` : ''}`;
      if (typeof spec.name !== 'string' || spec.name === '') throw new CorralError('INVALID_ARGUMENT', `${where}: "name" must be a non-empty string`);
      if (names.has(spec.name)) throw new CorralError('INVALID_ARGUMENT', `${where}: the name is used twice`);
      names.add(spec.name);
      for (const list of ['publish', 'subscribe', 'services'] as const) {
        const v = spec[list];
        if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
          throw new CorralError('INVALID_ARGUMENT', `${where}: "${list}" must be a list of strings`);
        }
      }
      return { digest: digestOf(spec, where), principal: new Principal(spec.name, spec) };
    });
  }

  /** A hub with one shared token (`--token`): whoever presents it may do everything. */
  static sharedToken(token: string): AccessControl {
    return new AccessControl([{ name: 'token', token, admin: true }]);
  }

  /** The principal whose token this is, or undefined. */
  authenticate(token: string): Principal | undefined {
    const given = sha256(token);
    let found: Principal | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, given)) found ??= e.principal;
    return found;
  }
}

function digestOf(spec: CredentialSpec, where: string): Buffer {
  if (typeof spec.token === 'string' && spec.token !== '' && spec.tokenSha256 === undefined) return sha256(spec.token);
  if (typeof spec.tokenSha256 === 'string' && /^[0-9a-f]{64}$/i.test(spec.tokenSha256) && spec.token === undefined) {
    return Buffer.from(spec.tokenSha256, 'hex');
  }
  throw new CorralError('INVALID_ARGUMENT', `${where}: give exactly one of "token" (non-empty) or "tokenSha256" (64 hex digits)`);
}
