import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:net';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { startAdminServer } from '../admin/admin-server.js';
import { systemClock } from '../hub/clock.js';
import { Hub } from '../hub/hub.js';
import type { HubLimits, HubTuning } from '../hub/hub-options.js';
import { StandaloneOwnership } from '../hub/ownership.js';
import { listenTcp } from '../hub/tcp-listener.js';
import { openSqliteStores } from '../store/sqlite/open-sqlite-stores.js';
import type { Durability } from '../store/stores.js';

export interface RunHubOptions {
  dataDir: string;
  host: string;
  port: number;
  httpHost: string;
  httpPort: number;
  token: string | undefined;
  durability: Durability;
  logLevel: string;
  limits?: Partial<HubLimits>;
  tuning?: Partial<HubTuning>;
}

export interface RunningHub {
  hub: Hub;
  url: string;
  httpUrl: string;
  /** Graceful shutdown: drain, say GOODBYE, close the store. */
  shutdown(): Promise<void>;
}

function addressOf(server: Server): { host: string; port: number } {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('server has no TCP address');
  return { host: a.address, port: a.port };
}

/** Starts a standalone hub on the embedded SQLite store. */
export async function runHub(opts: RunHubOptions, logger: Logger = pino({ level: opts.logLevel }, pino.destination(2))): Promise<RunningHub> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const stores = openSqliteStores({ path: join(dataDir, 'corral.db'), durability: opts.durability });
  const ownership = await StandaloneOwnership.start(stores.metadata);
  const hubId = `hub-${randomBytes(4).toString('hex')}`;
  const hub = new Hub({
    hubId, stores, ownership, logger: logger.child({ hubId }), clock: systemClock, token: opts.token, durability: opts.durability,
    limits: opts.limits, tuning: opts.tuning,
  });
  await hub.start();
  const tcp = await listenTcp(hub, opts.host, opts.port);
  const http = await startAdminServer(hub, opts.httpHost, opts.httpPort);
  const t = addressOf(tcp);
  const h = addressOf(http);
  logger.info({ hubId, dataDir, epoch: ownership.epoch, port: t.port, httpPort: h.port }, 'hub started');
  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    closing ??= (async () => {
      tcp.close();
      await hub.stop();
      http.close();
      http.closeAllConnections();
      await stores.close();
      logger.info({ hubId }, 'hub stopped');
    })();
    return closing;
  };
  return { hub, url: `corral://${t.host}:${t.port}`, httpUrl: `http://${h.host}:${h.port}`, shutdown };
}
