import { CorralError } from './corral-error.js';

export interface HubAddress {
  host: string;
  port: number;
}

export const DEFAULT_PORT = 7400;

/** Whether a hub URL asks for TLS: `corrals://` (a bare `host:port` does not). */
export function hubUrlUsesTls(url: string): boolean {
  return /^corrals:\/\//i.test(url);
}

/**
 * Parses `corral://host:port[,host:port…]` (`corrals://` for TLS, or bare
 * `host:port`) into the hub addresses a client may bootstrap from, in order
 * of preference.
 */
export function parseHubUrl(url: string): HubAddress[] {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== 'corral' && scheme.toLowerCase() !== 'corrals') {
    throw new CorralError('INVALID_URL', `${JSON.stringify(url)} is a ${scheme}:// address; a hub address is corral://host:port or, with TLS, corrals://host:port `
      + `(the hub's protocol port, ${DEFAULT_PORT} by default${scheme.toLowerCase().startsWith('http') ? ', not the admin HTTP port' : ''})`);
  }
  const body = scheme === undefined ? url : url.slice(scheme.length + 3);
  const parts = body.replace(/\/+$/, '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new CorralError('INVALID_URL', `no hub address in ${JSON.stringify(url)}`);
  return parts.map((p) => parseHostPort(p, url));
}

export function parseHostPort(part: string, whole = part): HubAddress {
  const m = /^(\[[^\]]+\]|[^:/\s]+)(?::(\d{1,5}))?$/.exec(part);
  const port = m?.[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (!m || port < 1 || port > 65535) throw new CorralError('INVALID_URL', `invalid hub address ${JSON.stringify(part)} in ${JSON.stringify(whole)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export function formatHostPort(a: HubAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
