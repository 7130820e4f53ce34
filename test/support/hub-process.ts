import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROCESS_START_MS } from './eventually.js';

/** The compiled CLI entry point (tests run from dist/). */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface HubProcess {
  /** corral://127.0.0.1:PORT */
  url: string;
  port: number;
  /** http://127.0.0.1:PORT of the admin API */
  httpUrl: string;
  dataDir: string;
  pid: number;
  child: ChildProcess;
  /** Everything the hub wrote to stderr (its JSON log) so far. */
  stderr(): string;
  /** Sends a signal; resolves when the process has exited (not for SIGSTOP/SIGCONT). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM and wait: a graceful shutdown. */
  stop(): Promise<void>;
}

export interface StartHubOptions {
  /** Reuse a data directory (restart after a crash); a fresh temp dir otherwise. */
  dataDir?: string;
  /** Fixed protocol port (to restart on the same address); 0 = any free port. */
  port?: number;
  /** Extra `corral start` arguments. */
  args?: string[];
  env?: Record<string, string>;
}

export function tempDir(prefix = 'corral-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A hub that has not printed its ready lines by then has failed to start (a slow start on a busy runner is not a failure). */
const START_WITHIN_MS = PROCESS_START_MS;

/** Starts `corral start` as a real process on 127.0.0.1 and waits for its ready lines. */
export async function startHub(opts: StartHubOptions = {}): Promise<HubProcess> {
  const dataDir = opts.dataDir ?? tempDir();
  const child = spawn(process.execPath, [
    CLI, 'start', '--data', dataDir, '--port', String(opts.port ?? 0), '--http-port', '0', '--log-level', 'warn',
    ...(opts.args ?? []),
    // The hub stops when this test process goes away, however it goes (a test runner's timeout kills it).
    '--exit-with-parent',
  ], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  // The pipe alone must not keep this process alive.
  (child.stdin as unknown as { unref(): void }).unref();
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; httpUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start in ${START_WITHIN_MS / 1000} s\nstdout:\n${out}\nstderr:\n${err}`)), START_WITHIN_MS);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /corrals?:\/\/\S+/.exec(out)?.[0];
      const httpUrl = /https?:\/\/\S+/.exec(out)?.[0];
      if (url && httpUrl) {
        clearTimeout(timer);
        resolve({ url, httpUrl });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`hub exited (${code ?? signal}) before it was ready\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    ...ready,
    port: Number(new URL(ready.url.replace(/^corrals?:/, 'http:')).port),
    dataDir,
    pid: child.pid!,
    child,
    stderr: () => err,
    kill,
    stop: () => kill('SIGTERM'),
  };
}
