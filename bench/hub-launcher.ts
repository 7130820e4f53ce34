import { fileURLToPath } from 'node:url';
import { benchTempDir, ServerProcess } from './server-process.js';

/** The compiled `corral` command (the benchmark runs from dist/bench/). */
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const READY_TIMEOUT_MS = 20_000;

export interface LaunchedHub {
  /** corral://127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:PORT of the admin API */
  httpUrl: string;
  process: ServerProcess;
}

export interface HubLaunchOptions {
  durability: 'fsync' | 'process';
  /** Extra node flags for the hub process, e.g. --cpu-prof. */
  nodeArgs?: readonly string[];
  /** Extra `corral start` options, e.g. `--store postgres://…` for a cluster member. */
  startArgs?: readonly string[];
}

/**
 * Starts `corral start` as its own process on a fresh data directory, as an
 * operator would, and waits for the two addresses it prints when ready.
 */
export async function launchHub(opts: HubLaunchOptions): Promise<LaunchedHub> {
  const server = new ServerProcess('corral hub', process.execPath, (dir) => [
    ...(opts.nodeArgs ?? []), CLI, 'start', '--data', dir, '--port', '0', '--http-port', '0',
    '--log-level', 'warn', '--durability', opts.durability, '--exit-with-parent', ...(opts.startArgs ?? []),
  ], benchTempDir('corral'));
  let out = '';
  const ready = new Promise<{ url: string; httpUrl: string }>((resolve) => {
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /corral:\/\/\S+/.exec(out)?.[0];
      const httpUrl = /http:\/\/\S+/.exec(out)?.[0];
      if (url && httpUrl) resolve({ url, httpUrl });
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hub not ready in ${READY_TIMEOUT_MS} ms:\n${server.recentOutput}`)), READY_TIMEOUT_MS);
  });
  try {
    return { ...(await server.unlessExited(Promise.race([ready, timeout]))), process: server };
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
