import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AccessControl } from '../hub/access-control.js';
import type { Hub } from '../hub/hub.js';
import { HubQueries } from '../hub/hub-queries.js';
import { listen } from '../hub/listen.js';
import type { TlsIdentity } from '../hub/tcp-listener.js';
import { DASHBOARD_HTML } from './dashboard-page.js';

/**
 * The admin HTTP API: GET /metrics (Prometheus), /healthz, /api/topics,
 * /api/stats, /api/hubs, each service's /api/<service>/<route>, and the
 * dashboard at /. Read-only; it listens on loopback unless told otherwise.
 * A hub with credentials answers only an admin credential, given as a
 * bearer token or as the password of HTTP Basic (so a browser can open the
 * dashboard); /healthz stays open for load balancers and service managers.
 */
export async function startAdminServer(hub: Hub, host: string, port: number, tls?: TlsIdentity): Promise<Server> {
  const queries = new HubQueries(hub);
  const routes: Record<string, () => Promise<{ type: string; body: string }>> = {
    '/metrics': async () => ({ type: hub.metrics.registry.contentType, body: await hub.metrics.registry.metrics() }),
    '/healthz': () => Promise.resolve({ type: 'application/json', body: JSON.stringify({ ok: true, hubId: hub.hubId }) }),
    '/api/topics': async () => ({ type: 'application/json', body: JSON.stringify({ topics: await queries.topics() }) }),
    '/api/stats': async () => ({ type: 'application/json', body: JSON.stringify(await queries.stats()) }),
    '/api/hubs': async () => ({ type: 'application/json', body: JSON.stringify({ hubs: await queries.hubs() }) }),
    '/': () => Promise.resolve({ type: 'text/html; charset=utf-8', body: DASHBOARD_HTML }),
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    if (path !== '/healthz' && !admitted(hub.access, req, res)) return;
    const service = hub.services.adminRoute(path);
    const route = routes[path] ?? (service && (async () => ({ type: 'application/json', body: JSON.stringify(await service()) })));
    if (req.method !== 'GET' || !route) {
      res.writeHead(req.method === 'GET' ? 404 : 405, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: req.method === 'GET' ? 'not found' : 'method not allowed', paths: Object.keys(routes) }));
      return;
    }
    route().then(({ type, body }) => {
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    }, (err: unknown) => {
      hub.logger.warn({ err, path }, 'admin request failed');
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    });
  };
  // With the hub's TLS identity the admin port speaks HTTPS only: an admin credential never crosses in the clear.
  const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handle) : createServer(handle);
  await listen(server, host, port);
  return server;
}

/** Whether the request carries an admin credential; if not, answers 401 or 403. */
function admitted(access: AccessControl | undefined, req: IncomingMessage, res: ServerResponse): boolean {
  if (access === undefined) return true;
  const token = presentedToken(req.headers.authorization);
  const principal = token === undefined ? undefined : access.authenticate(token);
  if (principal?.admin === true) return true;
  if (principal === undefined) {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="corral admin", charset="UTF-8"' });
    res.end(JSON.stringify({ error: 'this hub requires a credential: Authorization: Bearer <token>, or Basic with the token as password' }));
  } else {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `credential ${JSON.stringify(principal.name)} is not an admin credential` }));
  }
  return false;
}

/** The token of `Authorization: Bearer <token>`, or the password of `Authorization: Basic …`. */
function presentedToken(header: string | undefined): string | undefined {
  const m = /^(Bearer|Basic)\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  if (m[1]!.toLowerCase() === 'bearer') return m[2];
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}
