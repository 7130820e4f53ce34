import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
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

/** The caller's environment without its CORRAL_* variables, plus `extra`. */
function cliEnv(extra: Record<string, string> | undefined): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CORRAL_')) delete env[k];
  return Object.assign(env, extra);
}

/** Runs the compiled `corral` CLI as a real process; CORRAL_* variables of the caller do not leak in. */
export function runCli(args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = { env: cliEnv(opts.env), cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] };
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

/** A `corral` command left running: its standard input open, its output collected as it comes. */
export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Exit code once it ends (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts the compiled `corral` CLI and returns at once; the caller ends it (or kills it in a `finally`). */
export function spawnCli(args: string[], env?: Record<string, string>): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}
