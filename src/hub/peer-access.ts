/**
 * How this hub presents itself to the other hubs of its cluster when one of
 * its services is their client (a counter branch linking to its parent on
 * another hub): the token it sends in HELLO and, when the cluster serves
 * TLS, whom it trusts (docs/security.md, "Between hubs").
 */
export interface PeerAccess {
  /** Sent in HELLO to other hubs (`--peer-token`, by default the shared `--token`); undefined = none. */
  token: string | undefined;
  /** TLS to other hubs, verified against `ca` (`--tls-ca`; undefined = Node's bundled CAs); undefined = plain TCP. */
  tls: { ca: Buffer | undefined } | undefined;
}

/** A hub with no peer credential and no TLS: enough for a cluster that asks no credential. */
export const NO_PEER_ACCESS: PeerAccess = { token: undefined, tls: undefined };
