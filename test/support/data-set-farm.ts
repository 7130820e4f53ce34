import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, PROCESS_START_MS } from './eventually.js';

const SCRIPT = fileURLToPath(new URL('./data-set-server.js', import.meta.url));

/** A line a farm server wrote (see data-set-server.ts). */
export interface ServerEvent {
  event: 'ready' | 'change' | 'retrieving' | 'failed';
  at?: number;
  /** The server's farm clock error bound at the swap, ms. */
  errorBound?: number;
  /** The farm clock's estimated offset minus the true one at the swap, ms. */
  clockError?: number;
  version: string;
  previous?: string;
  scheduledAt?: number;
  late?: boolean;
  bootstrap?: boolean;
  size?: number;
  mixes?: number;
  bytes?: number;
  retrievalMs?: number;
  message?: string;
}

export interface FarmServer {
  skew: number;
  child: ChildProcess;
  events: ServerEvent[];
  /** The version this server holds active now (by its last ready/change line). */
  version(): string;
  changes(): ServerEvent[];
  kill(): Promise<void>;
}

/** Starts farm servers at once; if one fails to start, those that did are killed too, so none outlives the test. */
export async function startServers(starts: ReadonlyArray<() => Promise<FarmServer>>): Promise<FarmServer[]> {
  const settled = await Promise.allSettled(starts.map((start) => start()));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed === undefined) return started;
  await Promise.all(started.map((s) => s.kill()));
  throw failed.reason;
}

/** Starts one farm server process and waits for its `ready` line. */
export async function startServer(url: string, name: string, skew: number, pageBytes = 0, read = true, readyMs = PROCESS_START_MS): Promise<FarmServer> {
  // Its stdin is this process's pipe: the server exits when this test process goes away, however it goes.
  const child = spawn(process.execPath, [SCRIPT, url, name, String(skew), String(pageBytes), read ? 'read' : 'noread'], { stdio: ['pipe', 'pipe', 'inherit'] });
  (child.stdin as unknown as { unref(): void }).unref();
  const events: ServerEvent[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buf.slice(0, nl)) as ServerEvent);
      buf = buf.slice(nl + 1);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const s: FarmServer = {
    skew, child, events,
    version: () => [...events].reverse().find((e) => e.event === 'ready' || e.event === 'change')?.version ?? '',
    changes: () => events.filter((e) => e.event === 'change'),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await eventually(() => {
      const failed = events.find((e) => e.event === 'failed');
      if (failed) throw new Error(`farm server failed: ${failed.message}`);
      if (!events.some((e) => e.event === 'ready')) throw new Error(`farm server not ready within ${readyMs} ms`);
    }, readyMs);
  } catch (err) {
    await s.kill();
    throw err;
  }
  return s;
}

/** Clock skews of a farm: minutes both ways, ±30 s to ±10 min. */
export function skewOf(i: number): number {
  return (i % 2 === 0 ? 1 : -1) * 30_000 * (1 + (i % 20));
}
