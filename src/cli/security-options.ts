import { readFileSync } from 'node:fs';
import { AccessControl, type CredentialSpec } from '../hub/access-control.js';
import type { PeerAccess } from '../hub/peer-access.js';
import type { TlsIdentity } from '../hub/tcp-listener.js';
import { CorralError } from '../protocol/corral-error.js';

/** A secret read from a file (`--token-file`): its first line, so a trailing newline is no part of it. */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CorralError('INVALID_ARGUMENT', `cannot read the token file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const token = text.split(/\r?\n/, 1)[0] ?? '';
  if (token === '') throw new CorralError('INVALID_ARGUMENT', `the token file ${path} is empty`);
  return token;
}

/** A secret given inline or by file (`--token` / `--token-file` and the like): the file wins when both could apply. */
export function secretFrom(value: string | undefined, file: string | undefined): string | undefined {
  return file !== undefined ? readSecretFile(file) : value;
}

/**
 * The hub's credentials from `--token` / `--token-file` (one credential
 * that may do everything) and `--credentials <file>` (JSON, docs/security.md);
 * undefined when none is given: the hub then admits every client.
 */
export function loadAccess(opts: { token?: string; tokenFile?: string; credentials?: string }): AccessControl | undefined {
  if (opts.token !== undefined && opts.tokenFile !== undefined) {
    throw new CorralError('INVALID_ARGUMENT', 'give the token once: --token (CORRAL_TOKEN) or --token-file (CORRAL_TOKEN_FILE)');
  }
  const specs: CredentialSpec[] = [];
  const shared = secretFrom(opts.token, opts.tokenFile);
  if (shared !== undefined) specs.push({ name: 'token', token: shared, admin: true });
  if (opts.credentials !== undefined) specs.push(...readCredentialsFile(opts.credentials));
  return specs.length > 0 ? new AccessControl(specs) : undefined;
}

function readCredentialsFile(path: string): CredentialSpec[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CorralError('INVALID_ARGUMENT', `cannot read the credentials file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const list = (doc as { credentials?: unknown } | null)?.credentials;
  if (!Array.isArray(list)) throw new CorralError('INVALID_ARGUMENT', `the credentials file ${path} must hold {"credentials": [ … ]}`);
  return list as CredentialSpec[];
}

/** A PEM file, or INVALID_ARGUMENT naming it. */
export function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CorralError('INVALID_ARGUMENT', `cannot read the ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The hub's TLS identity from `--tls-cert` and `--tls-key` (both or neither). */
export function loadTlsIdentity(opts: { tlsCert?: string; tlsKey?: string }): TlsIdentity | undefined {
  if (opts.tlsCert === undefined && opts.tlsKey === undefined) return undefined;
  if (opts.tlsCert === undefined || opts.tlsKey === undefined) {
    throw new CorralError('INVALID_ARGUMENT', 'TLS needs both --tls-cert (the certificate chain) and --tls-key (its private key)');
  }
  return { cert: readPem(opts.tlsCert, 'TLS certificate'), key: readPem(opts.tlsKey, 'TLS key') };
}

/**
 * The hub toward the other hubs of its cluster (docs/security.md, "Between
 * hubs"): the token from `--peer-token` / `--peer-token-file`, else the
 * shared `--token` / `--token-file` secret, so a cluster secured with one
 * token needs nothing more; TLS when the hub serves it, trusting `--tls-ca`
 * (Node's bundled CAs without it).
 */
export function loadPeerAccess(opts: {
  token?: string; tokenFile?: string; peerToken?: string; peerTokenFile?: string; tlsCert?: string; tlsCa?: string;
}): PeerAccess {
  if (opts.peerToken !== undefined && opts.peerTokenFile !== undefined) {
    throw new CorralError('INVALID_ARGUMENT', 'give the peer token once: --peer-token (CORRAL_PEER_TOKEN) or --peer-token-file (CORRAL_PEER_TOKEN_FILE)');
  }
  if (opts.tlsCa !== undefined && opts.tlsCert === undefined) {
    throw new CorralError('INVALID_ARGUMENT', '--tls-ca is whom this hub trusts when it speaks TLS to the other hubs: it needs --tls-cert and --tls-key');
  }
  const token = secretFrom(opts.peerToken, opts.peerTokenFile) ?? secretFrom(opts.token, opts.tokenFile);
  const tls = opts.tlsCert === undefined ? undefined : { ca: opts.tlsCa === undefined ? undefined : readPem(opts.tlsCa, 'TLS CA file') };
  return { token, tls };
}
