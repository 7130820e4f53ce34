import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_STORE_TIMEOUT_MS } from '../store/postgres/postgres-defaults.js';
import { applyConfigFile } from './config-file.js';
import { parseDuration } from './parse-duration.js';
import { loadAccess, loadPeerAccess, loadTlsIdentity } from './security-options.js';
import { runHub } from './run-hub.js';
import { wholeNumber } from './whole-number.js';

/** How long a graceful stop may take; a service manager's stop timeout should exceed it (docs/examples/corral.service). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

export function portNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535 (0 = any free port)');
  return n;
}

function postgresUrl(v: string): string {
  if (!/^postgres(ql)?:\/\//.test(v)) throw new InvalidArgumentError('expected a postgres:// URL');
  return v;
}

function redactPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

interface StartOptions {
  data: string;
  store?: string;
  advertise?: string;
  lease: number;
  storeTimeout: number;
  rebalanceInterval: number;
  host: string;
  port: number;
  httpHost: string;
  httpPort: number;
  token?: string;
  tokenFile?: string;
  credentials?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  peerToken?: string;
  peerTokenFile?: string;
  durability: 'fsync' | 'process';
  maxPayload: number;
  maxConnections: number;
  stallTimeout: number;
  outboundBudget: number;
  gcInterval: number;
  countersBranchInterval: number;
  metricsSubscriptions: number;
  retainCount: number;
  retainAge: number;
  producerIdle: number;
  maxProducersPerTopic: number;
  logLevel: string;
  shutdownTimeout: number;
  exitWithParent?: boolean;
}

/** `corral start`: a standalone hub on the embedded SQLite store. */
export function addStartCommand(program: Command): void {
  program
    .command('start')
    .description('start a standalone hub on the embedded SQLite store')
    .addOption(new Option('--config <file>', 'JSON file of options ({"port": 7400, "data": "/srv/corral", …}); environment and flags override it').env('CORRAL_CONFIG'))
    .addOption(new Option('--data <dir>', 'data directory (standalone)').env('CORRAL_DATA').default('.corral'))
    .addOption(new Option('--store <url>', 'cluster mode: postgres://user:pass@host:port/db shared by every hub').env('CORRAL_STORE').argParser(postgresUrl))
    .addOption(new Option('--advertise <host:port>', 'cluster mode: the address other hubs redirect clients to').env('CORRAL_ADVERTISE'))
    .addOption(new Option('--lease <ms>', 'cluster mode: a hub silent this long loses its topics').default(5000).argParser(wholeNumber(1)))
    .addOption(new Option('--store-timeout <duration>', 'cluster mode: a PostgreSQL operation unanswered this long fails as STORE_UNAVAILABLE '
      + '(a publish waiting on it is answered with that error, a retryable one) (5s, 1m)').env('CORRAL_STORE_TIMEOUT').default(DEFAULT_STORE_TIMEOUT_MS, '30s').argParser(parseDuration))
    .addOption(new Option('--rebalance-interval <ms>', 'cluster mode: how often topics are levelled across hubs (0 = never)').default(5000).argParser(wholeNumber(0)))
    .addOption(new Option('--host <host>', 'address to listen on for clients').env('CORRAL_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <n>', 'client protocol port (0 = any free port)').env('CORRAL_PORT').default(7400).argParser(portNumber))
    .addOption(new Option('--http-host <host>', 'address of the admin HTTP API').default('127.0.0.1'))
    .addOption(new Option('--http-port <n>', 'admin HTTP port (0 = any free port)').env('CORRAL_HTTP_PORT').default(7401).argParser(portNumber))
    .addOption(new Option('--token <token>', 'clients must present this token (it may do everything)').env('CORRAL_TOKEN'))
    .addOption(new Option('--token-file <path>', 'the same, read from the first line of a file').env('CORRAL_TOKEN_FILE'))
    .addOption(new Option('--tls-cert <path>', 'serve TLS on both ports (corrals://, https://) with this certificate chain, PEM').env('CORRAL_TLS_CERT'))
    .addOption(new Option('--tls-key <path>', 'the private key of --tls-cert, PEM').env('CORRAL_TLS_KEY'))
    .addOption(new Option('--tls-ca <path>', 'CA certificates (PEM) the other hubs\' certificates must chain to when this hub connects to them '
      + '(a counter branch linking to its parent); default Node\'s bundled CAs').env('CORRAL_TLS_CA'))
    .addOption(new Option('--credentials <path>', 'per-client tokens and permissions, JSON (docs/security.md)').env('CORRAL_CREDENTIALS'))
    .addOption(new Option('--peer-token <token>', 'token this hub presents to the other hubs of its cluster; its credential needs the counters service '
      + '(default: the --token secret)').env('CORRAL_PEER_TOKEN'))
    .addOption(new Option('--peer-token-file <path>', 'the same, read from the first line of a file').env('CORRAL_PEER_TOKEN_FILE'))
    .addOption(new Option('--durability <mode>', 'fsync: acknowledged = on disk (survives power loss); process: survives a hub crash only')
      .choices(['fsync', 'process']).default('fsync'))
    .addOption(new Option('--max-payload <bytes>', 'largest message payload accepted').default(1024 * 1024).argParser(wholeNumber(1)))
    .addOption(new Option('--retain-count <n>', 'default retention: a topic without its own (corral retain) keeps at least its newest N messages')
      .env('CORRAL_RETAIN_COUNT').default(0).argParser(wholeNumber(0)))
    .addOption(new Option('--retain-age <duration>', 'default retention: a topic without its own keeps messages younger than this (10s, 30m, 1h, 7d)')
      .env('CORRAL_RETAIN_AGE').default(0).argParser(parseDuration))
    .addOption(new Option('--producer-idle <duration>', 'de-duplication window: a producer id that published nothing new for this long is forgotten, '
      + 'and a retry of it may be stored again (10s, 30m, 1h, 7d)').env('CORRAL_PRODUCER_IDLE').default(24 * 60 * 60 * 1000, '24h').argParser(parseDuration))
    .addOption(new Option('--max-producers-per-topic <n>', 'de-duplication window: producer ids remembered per topic; the least recently used is forgotten first')
      .env('CORRAL_MAX_PRODUCERS_PER_TOPIC').default(10_000).argParser(wholeNumber(1)))
    .addOption(new Option('--max-connections <n>', 'client connections served at once; past it new ones are refused (CONNECTION_LIMIT)').default(10_000).argParser(wholeNumber(1)))
    .addOption(new Option('--stall-timeout <duration>', 'a client that keeps sending requests but reads nothing for this long is closed (SLOW_READER)')
      .env('CORRAL_STALL_TIMEOUT').default(30_000, '30s').argParser(parseDuration))
    .addOption(new Option('--outbound-budget <bytes>', 'bytes queued to all connections together before deliveries to those holding the most pause')
      .env('CORRAL_OUTBOUND_BUDGET').default(256 * 1024 * 1024).argParser(wholeNumber(1)))
    .addOption(new Option('--metrics-subscriptions <n>', 'subscriptions with a backlog series of their own in /metrics, the largest backlogs first (totals cover all)')
      .default(100).argParser(wholeNumber(0)))
    .addOption(new Option('--counters-branch-interval <ms>', 'tree counters: how often a branch this hub owns exchanges with its parent (urgent changes go at once)')
      .env('CORRAL_COUNTERS_BRANCH_INTERVAL').default(100).argParser(wholeNumber(1)))
    .addOption(new Option('--gc-interval <ms>', 'how often acknowledged messages are trimmed').default(1000).argParser(wholeNumber(1)))
    .addOption(new Option('--shutdown-timeout <duration>', 'a graceful stop (SIGTERM, SIGINT, SIGHUP) that has not finished by then (the store or the other hubs '
      + 'unreachable) ends the process anyway; what was acknowledged is durable already (10s, 1m)').env('CORRAL_SHUTDOWN_TIMEOUT').default(DEFAULT_SHUTDOWN_TIMEOUT_MS, '30s').argParser(parseDuration))
    .addOption(new Option('--log-level <level>', 'log level of the JSON log on stderr')
      .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'))
    // For `corral dev`, which holds the pipe: the hub stops when its parent dies, however it died.
    .addOption(new Option('--exit-with-parent', 'stop gracefully when standard input closes').hideHelp())
    .hook('preAction', (cmd) => {
      const path = cmd.getOptionValue('config') as string | undefined;
      if (path === undefined) return;
      try {
        applyConfigFile(cmd, path);
      } catch (err) {
        cmd.error(`error: ${err instanceof Error ? err.message : String(err)}`, { exitCode: 2 });
      }
    })
    .action(async (o: StartOptions) => {
      const running = await runHub({
        dataDir: o.data, store: o.store, advertise: o.advertise, leaseMs: o.lease, storeTimeoutMs: o.storeTimeout, rebalanceMs: o.rebalanceInterval, host: o.host, port: o.port, httpHost: o.httpHost, httpPort: o.httpPort,
        access: loadAccess(o), tls: loadTlsIdentity(o), peer: loadPeerAccess(o), durability: o.durability, logLevel: o.logLevel,
        services: { countersBranchIntervalMs: o.countersBranchInterval },
        limits: { maxPayloadBytes: o.maxPayload, maxFrameBytes: o.maxPayload + 64 * 1024, maxConnections: o.maxConnections,
          stallTimeoutMs: o.stallTimeout, outboundBudgetBytes: o.outboundBudget,
        },
        tuning: {
          gcIntervalMs: o.gcInterval, metricsSubscriptions: o.metricsSubscriptions, defaultRetention: { retainCount: o.retainCount, retainMs: o.retainAge },
          producerIdleMs: o.producerIdle, maxProducersPerTopic: o.maxProducersPerTopic,
        },
      });
      process.stdout.write([
        `Corral hub ${running.hub.hubId} ready (${running.mode}, durability ${o.durability}, pid ${process.pid})`,
        `  protocol  ${running.url}`,
        `  admin     ${running.httpUrl}  (dashboard at /; /metrics /api/topics /api/stats /api/hubs /healthz)`,
        o.store ? `  store     ${redactPassword(o.store)}` : `  data      ${resolve(o.data)}`,
        '',
      ].join('\n'));
      let signals = 0;
      const onSignal = (): void => {
        if (++signals > 1) process.exit(1);
        setTimeout(() => {
          process.stderr.write(`corral: shutdown did not finish within ${o.shutdownTimeout} ms; exiting\n`);
          process.exit(1);
        }, o.shutdownTimeout);
        running.shutdown().then(() => process.exit(0), (err: unknown) => {
          process.stderr.write(`corral: shutdown failed: ${String(err)}\n`);
          process.exit(1);
        });
      };
      // SIGHUP too: a hub started from a terminal stops cleanly when the terminal closes.
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
      if (o.exitWithParent) {
        process.stdin.once('close', onSignal);
        process.stdin.resume();
      }
    });
}
