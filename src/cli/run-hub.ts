import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { startAdminServer } from '../admin/admin-server.js';
import type { AccessControl } from '../hub/access-control.js';
import { CorralError, isCorralError } from '../protocol/corral-error.js';
import { claimDataDir, journalDir, storeFile } from './claim-data-dir.js';
import type { DataDirLock } from './data-dir-lock.js';
import { systemClock } from '../hub/clock.js';
import { ClusterOwnership } from '../hub/cluster-ownership.js';
import { Hub } from '../hub/hub.js';
import type { HubLimits, HubTuning } from '../hub/hub-options.js';
import type { PeerAccess } from '../hub/peer-access.js';
import { LoadSampler } from '../hub/load-sampler.js';
import { Membership } from '../hub/membership.js';
import { Rebalancer } from '../hub/rebalancer.js';
import { StandaloneOwnership, type Ownership } from '../hub/ownership.js';
import { listenTcp, type TlsIdentity } from '../hub/tcp-listener.js';
import { builtInServices, type BuiltInServiceOptions } from '../services/built-in-services.js';
import { withJournal } from '../store/journal/with-journal.js';
import { openSqliteStores } from '../store/sqlite/open-sqlite-stores.js';
import type { Durability, Stores } from '../store/stores.js';

export interface RunHubOptions {
  dataDir: string;
  /** postgres://… for cluster mode; undefined = standalone on SQLite in dataDir. */
  store: string | undefined;
  host: string;
  port: number;
  httpHost: string;
  httpPort: number;
  /** host:port other hubs redirect clients to; default host:port listened on. */
  advertise: string | undefined;
  /** Cluster lease: a hub silent this long loses its topics. */
  leaseMs: number;
  /** Cluster: a PostgreSQL operation unanswered this long fails; default 30 s. */
  storeTimeoutMs?: number;
  /** Cluster: how often load is levelled (0 = never). */
  rebalanceMs: number;
  /** TLS on both ports (`corrals://`, `https://`); undefined = plain TCP and HTTP. */
  tls?: TlsIdentity;
  /** Who may connect and do what; undefined = everyone, everything. */
  access: AccessControl | undefined;
  /** This hub toward the other hubs (a counter branch linking to its parent); default no token, no TLS. */
  peer?: PeerAccess;
  durability: Durability;
  logLevel: string;
  limits?: Partial<HubLimits>;
  tuning?: Partial<HubTuning>;
  services?: BuiltInServiceOptions;
}

export interface RunningHub {
  hub: Hub;
  url: string;
  httpUrl: string;
  mode: string;
  /** Graceful shutdown: drain, leave the cluster, say GOODBYE, close the store. */
  shutdown(): Promise<void>;
}

function addressOf(server: Server): { host: string; port: number } {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('server has no TCP address');
  return { host: a.address, port: a.port };
}

/**
 * Cluster: both stores in PostgreSQL, which outlives any hub's machine.
 * Standalone: SQLite in the data directory, with the journal in front of the
 * message log as the ack path (docs/decisions/journal.md); the data
 * directory's lock makes the journal its store's only writer.
 */
async function openStores(opts: RunHubOptions, lock: DataDirLock | undefined, logger: Logger): Promise<Stores> {
  if (lock === undefined) {
    // Loaded here: a standalone hub never uses the driver (measured ~1.5 MB resident).
    const { openPostgresStores } = await import('../store/postgres/open-postgres-stores.js');
    return openPostgresStores({ url: opts.store!, durability: opts.durability, timeoutMs: opts.storeTimeoutMs });
  }
  const dataDir = resolve(opts.dataDir);
  let sqlite: Stores;
  try {
    sqlite = openSqliteStores({ path: storeFile(dataDir), durability: opts.durability });
  } catch (err) {
    throw isCorralError(err, 'STORE_UNAVAILABLE') ? new CorralError('STORE_UNAVAILABLE', `${err.message} (${storeFile(dataDir)})`, { cause: err }) : err;
  }
  return withJournal(sqlite, { dir: journalDir(dataDir), durability: opts.durability, logger });
}

type Cleanup = Array<() => Promise<void> | void>;

const LISTEN_WHY: Record<string, string> = {
  EADDRINUSE: 'the port is in use (another hub?)',
  EACCES: 'not allowed (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no such local address',
};

/** Listens, or throws LISTEN_FAILED naming the port, the reason and the option to change. */
async function listenOrExplain<T>(what: string, option: string, host: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new CorralError('LISTEN_FAILED',
      `cannot listen on the ${what} port ${host}:${port}: ${LISTEN_WHY[code] ?? (err as Error).message}${code ? ` (${code})` : ''}; `
      + `stop what uses it, or choose another ${option} (0 = any free port)`, { cause: err });
  }
}

/** Starts a hub: standalone on SQLite, or a cluster member over PostgreSQL. */
export async function runHub(opts: RunHubOptions, logger: Logger = pino({ level: opts.logLevel }, pino.destination(2))): Promise<RunningHub> {
  // What started so far, undone in reverse if a later step fails: nothing half-started stays up.
  const cleanup: Cleanup = [];
  try {
    return await startHub(opts, logger, cleanup);
  } catch (err) {
    for (const undo of cleanup.reverse()) await Promise.resolve().then(undo).catch(() => undefined);
    throw err;
  }
}

async function startHub(opts: RunHubOptions, logger: Logger, cleanup: Cleanup): Promise<RunningHub> {
  // One hub per data directory: a second would claim the same topics and fence the first.
  const lock = opts.store ? undefined : claimDataDir(opts.dataDir);
  if (lock) cleanup.push(() => lock.release());
  const stores = await openStores(opts, lock, logger);
  cleanup.push(() => stores.close());
  const hubId = `hub-${randomBytes(4).toString('hex')}`;
  const log = logger.child({ hubId });
  let membership: Membership | undefined;
  let ownership: Ownership;
  if (opts.store) {
    membership = new Membership(stores.metadata, { hubId, address: '', httpAddress: '', pid: process.pid, startedAt: Date.now() },
      () => sampler.sample(), { leaseMs: opts.leaseMs, renewEveryMs: Math.max(100, Math.floor(opts.leaseMs / 5)) }, log,
      () => {
        hub.dropAllTopics(new CorralError('FENCED', 'this hub lost its cluster lease; its topics may have moved'));
        return Promise.resolve();
      });
    ownership = new ClusterOwnership(stores.metadata, membership, log);
  } else {
    ownership = await StandaloneOwnership.start(stores.metadata);
  }
  const hub = new Hub({
    hubId, stores, ownership, logger: log, clock: systemClock, access: opts.access, peer: opts.peer, durability: opts.durability,
    limits: opts.limits, tuning: opts.tuning, membership, services: builtInServices(opts.services),
  });
  const sampler = new LoadSampler(hub);
  await hub.start();
  cleanup.push(() => hub.stop());
  const tcp = await listenOrExplain('protocol', '--port', opts.host, opts.port, () => listenTcp(hub, opts.host, opts.port, opts.tls));
  cleanup.push(() => { tcp.close(); });
  const http = await listenOrExplain('admin', '--http-port', opts.httpHost, opts.httpPort, () => startAdminServer(hub, opts.httpHost, opts.httpPort, opts.tls));
  cleanup.push(() => { http.close(); });
  const t = addressOf(tcp);
  const h = addressOf(http);
  let rebalancer: Rebalancer | undefined;
  if (membership) {
    membership.advertise(opts.advertise ?? `${t.host}:${t.port}`, `${h.host}:${h.port}`);
    await membership.join();
    rebalancer = new Rebalancer(hub, membership, log, { intervalMs: opts.rebalanceMs || 1000, maxMovesPerRound: 20 });
    if (opts.rebalanceMs > 0) rebalancer.start();
  }
  log.info({ dataDir: opts.store ? undefined : resolve(opts.dataDir), port: t.port, httpPort: h.port }, 'hub started');
  if (membership && opts.access !== undefined && opts.peer?.token === undefined) {
    // Said at start, not only when a branch first fails: the operator is looking now.
    log.warn('this hub requires credentials but has no --peer-token: a counter branch it owns cannot link to a parent on another hub '
      + '(give every hub --peer-token or --peer-token-file, a credential with the counters service; docs/security.md)');
  }
  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    closing ??= (async () => {
      tcp.close();
      // A store already gone (PostgreSQL stopping too) must not keep the hub
      // from closing: everything acknowledged is durable already.
      const warn = (what: string) => (err: unknown): void => log.warn({ err }, `${what} failed during shutdown`);
      // Cluster: hand every topic to another hub first, so clients move without a lookup storm.
      await rebalancer?.handOffAll().catch(warn('handing topics off'));
      await hub.stop(async () => { await membership?.leave().catch(warn('leaving the cluster')); });
      sampler.stop();
      http.close();
      http.closeAllConnections();
      await stores.close().catch(warn('closing the store'));
      lock?.release();
      log.info('hub stopped');
    })();
    return closing;
  };
  return {
    hub,
    url: `${opts.tls ? 'corrals' : 'corral'}://${t.host}:${t.port}`,
    httpUrl: `${opts.tls ? 'https' : 'http'}://${h.host}:${h.port}`,
    mode: opts.store ? 'cluster, PostgreSQL' : 'standalone, SQLite',
    shutdown,
  };
}
