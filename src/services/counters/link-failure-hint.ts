import type { PeerAccess } from '../../hub/peer-access.js';
import type { CorralError } from '../../protocol/corral-error.js';

/**
 * What an operator should do about a branch's failed link to its parent
 * (docs/security.md, "Between hubs"): the refusals that only a change of
 * configuration ends say which option to change; other failures (the
 * parent's owner failing over) heal by themselves and say so.
 */
export function linkFailureHint(err: CorralError, peer: PeerAccess): string {
  switch (err.code) {
    case 'UNAUTHORIZED':
      return peer.token === undefined
        ? 'the parent\'s hub requires a credential and this hub presents none to its peers: start the hubs with --peer-token or '
          + '--peer-token-file (or a shared --token), naming a credential that may use the counters service'
        : 'the parent\'s hub does not know this hub\'s peer token (--peer-token, or the shared --token): it must be one of that hub\'s credentials';
    case 'FORBIDDEN':
      return 'this hub\'s peer credential may not use the counters service: give it "services": ["counters"] in --credentials';
    case 'TLS_FAILED':
      return 'the parent\'s hub certificate does not verify against this hub\'s --tls-ca (Node\'s bundled CAs without it), '
        + 'or that hub does not serve TLS';
    default:
      return err.retryable ? 'retrying (the parent\'s owner may be failing over)' : 'retrying';
  }
}
