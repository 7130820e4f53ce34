import { spawn, type SpawnOptions } from 'node:child_process';
import { CLI } from './hub-process.js';

export interface CliRun {
  /** Exit code; null when killed (see `timedOut`). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The run outlived `timeoutMs` and was killed. */
  timedOut: boolean;
}

export interface CliRunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the process after this long (a command that should have exited, e.g. a refused `corral start`). */
  timeoutMs?: number;
}

/** Runs the compiled `corral` CLI as a real process; CORRAL_* variables of the caller do not leak in. */
export function runCli(args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('CORRAL_')) delete env[k];
    Object.assign(env, opts.env);
    const spawnOpts: SpawnOptions = { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] };
    const child = spawn(process.execPath, [CLI, ...args], spawnOpts);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    child.stdin!.end(opts.input ?? '');
  });
}
