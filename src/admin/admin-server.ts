import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Hub } from '../hub/hub.js';
import { HubQueries } from '../hub/hub-queries.js';
import { listen } from '../hub/listen.js';
import { DASHBOARD_HTML } from './dashboard-page.js';

/**
 * The admin HTTP API: GET /metrics (Prometheus), /healthz, /api/topics,
 * /api/stats, /api/hubs, each service's /api/<service>/<route>, and the
 * dashboard at /. Read-only; it listens on loopback unless told otherwise.
 */
export async function startAdminServer(hub: Hub, host: string, port: number): Promise<Server> {
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
  const server = createServer(handle);
  await listen(server, host, port);
  return server;
}
