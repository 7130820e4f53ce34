import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const STOP_GRACE_MS = 15_000;
const OUTPUT_KEPT = 8192;

/**
 * A server the benchmark started as a child process, with its own temp data
 * directory: stopped with SIGTERM (SIGKILL if it hangs), then the directory
 * is removed.
 */
export class ServerProcess {
  readonly dir: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private output = '';

  constructor(readonly name: string, command: string, args: (dir: string) => string[], dir: string) {
    this.dir = dir;
    // Standard input is a pipe from this process: a server that watches it
    // (`corral start --exit-with-parent`) ends when the benchmark ends, however it ends.
    this.child = spawn(command, args(dir), { stdio: ['pipe', 'pipe', 'pipe'] });
    (this.child.stdin as unknown as { unref(): void }).unref();
    const keep = (d: Buffer): void => { this.output = (this.output + d.toString()).slice(-OUTPUT_KEPT); };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last few kilobytes of what the server printed, for error messages. */
  get recentOutput(): string {
    return this.output;
  }

  get stdout(): NodeJS.ReadableStream {
    return this.child.stdout!;
  }

  /** Settles like `ready`, unless the server exits first: then rejects with its output. */
  unlessExited<T>(ready: Promise<T>): Promise<T> {
    if (!this.running) return Promise.reject(this.exitError());
    let onExit: (() => void) | undefined;
    const exited = new Promise<never>((_, reject) => {
      onExit = () => reject(this.exitError());
      this.child.once('exit', onExit);
    });
    return Promise.race([ready, exited]).finally(() => this.child.off('exit', onExit!));
  }

  private exitError(): Error {
    return new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.output}`);
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function benchTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `corral-bench-${prefix}-`));
}

/**
 * Full path of an executable on PATH, or in the sbin folders Debian installs
 * nats-server and mosquitto to (not on a normal user's PATH).
 */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** A port that was free a moment ago on 127.0.0.1 (peers cannot be told "port 0"). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Waits until the server accepts TCP connections on `port`. */
export function waitForPort(server: ServerProcess, port: number, timeoutMs = 20_000): Promise<void> {
  const poll = async (): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await canConnect(port))) {
      if (!server.running) return; // unlessExited has already rejected
      if (Date.now() > deadline) throw new Error(`${server.name} did not listen on ${port} within ${timeoutMs} ms:\n${server.recentOutput}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return server.unlessExited(poll());
}

/** Resident set size now and at its peak, from /proc/<pid>/status (Linux). */
export function procMemory(pid: number): { vmRss: number; vmHwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { vmRss: kb('VmRSS'), vmHwm: kb('VmHWM') };
}

/** Bytes the process caused to be written to storage so far, from /proc/<pid>/io (Linux). */
export function procBytesWritten(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? NaN);
}
