import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { removeDir, startHub, tempDir } from '../support/hub-process.js';
import { occupiedPort } from '../support/occupied-port.js';
import { runCli, type CliRun } from '../support/run-cli.js';

const LOCK = 'corral.lock';
/** A refused start exits at once; this only bounds a regression that leaves it running. */
const REFUSED_WITHIN_MS = 20_000;

function startArgs(dataDir: string, ...extra: string[]): string[] {
  return ['start', '--data', dataDir, '--port', '0', '--http-port', '0', '--log-level', 'warn', ...extra];
}


/**
 * `corral start`'s claim of a data directory, as a user the permission bits
 * apply to. Root may write anywhere, so as root the claim runs in a process
 * that loads the CLI's modules as root (the checkout may sit under a 0700
 * directory) and only then becomes `nobody` (uid 65534).
 */
async function claimAsUnprivileged(dir: string): Promise<CliRun> {
  if (process.getuid?.() !== 0) return runCli(startArgs(dir), { timeoutMs: REFUSED_WITHIN_MS });
  const module = (name: string): string => JSON.stringify(new URL(`../../src/cli/${name}.js`, import.meta.url).href);
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    const { claimDataDir } = await import(${module('claim-data-dir')});
    const { reportError } = await import(${module('report-error')});
    process.setgid(65534);
    process.setuid(65534);
    try { claimDataDir(${JSON.stringify(dir)}); } catch (err) { reportError(err); process.exit(1); }
  `], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const [code] = await once(child, 'exit') as [number | null];
  return { code, stdout, stderr, timedOut: false };
}

/** The pid of a process that has exited (the pid a crashed hub leaves in its lock). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('corral start: one hub per data directory', () => {
  const dirs: string[] = [];
  const dir = (): string => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach(removeDir));

  it('refuses a second hub on the same directory, naming the pid of the first; the first carries on', async () => {
    const data = dir();
    const first = await startHub({ dataDir: data });
    try {
      const second = await runCli(startArgs(data), { timeoutMs: REFUSED_WITHIN_MS });
      assert.equal(second.timedOut, false, 'the second hub exited by itself');
      assert.equal(second.code, 1);
      assert.doesNotMatch(second.stdout, /ready/);
      assert.match(second.stderr, new RegExp(`^corral: DATA_DIR_LOCKED: data directory ${data} is in use by the hub with pid ${first.pid} `));
      assert.match(second.stderr, /stop that hub, or start this one with another --data/);
      const pub = await runCli(['pub', 'still.mine', 'x', '--url', first.url]);
      assert.equal(pub.code, 0, pub.stderr);
    } finally {
      await first.stop();
    }
    assert.equal(existsSync(join(data, LOCK)), false, 'a graceful stop removes the lock');
  });

  it('takes over the lock of a hub killed with SIGKILL, and of a lock naming a pid that no longer runs', async () => {
    const data = dir();
    const crashed = await startHub({ dataDir: data });
    await crashed.kill('SIGKILL');
    assert.equal((JSON.parse(readFileSync(join(data, LOCK), 'utf8')) as { pid: number }).pid, crashed.pid);
    const next = await startHub({ dataDir: data });
    assert.equal((JSON.parse(readFileSync(join(data, LOCK), 'utf8')) as { pid: number }).pid, next.pid);
    await next.stop();

    const pid = await deadPid();
    writeFileSync(join(data, LOCK), JSON.stringify({ pid, hostname: hostname(), startedAt: new Date(0).toISOString() }));
    const third = await startHub({ dataDir: data });
    assert.equal((JSON.parse(readFileSync(join(data, LOCK), 'utf8')) as { pid: number }).pid, third.pid);
    await third.stop();
  });

  it('gives a stale lock to exactly one of many hubs claiming it at once', async () => {
    const data = dir();
    writeFileSync(join(data, LOCK), JSON.stringify({ pid: await deadPid(), hostname: hostname(), startedAt: new Date(0).toISOString() }));
    const lockModule = JSON.stringify(new URL('../../src/cli/data-dir-lock.js', import.meta.url).href);
    // Each claimant reports, then holds what it got until the test closes its standard input.
    const claimants = Array.from({ length: 8 }, () => spawn(process.execPath, ['--input-type=module', '-e', `
      const { DataDirLock } = await import(${lockModule});
      try { DataDirLock.acquire(${JSON.stringify(data)}); process.stdout.write('claimed\\n'); }
      catch (err) { process.stdout.write(err.code + '\\n'); }
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));
    `], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const outcomes = await Promise.all(claimants.map(async (c) => {
      const [line] = await once(c.stdout, 'data') as [Buffer];
      return line.toString().trim();
    }));
    await Promise.all(claimants.map((c) => {
      c.stdin.end();
      return once(c, 'exit');
    }));
    assert.deepEqual(outcomes.sort(), ['DATA_DIR_LOCKED', 'DATA_DIR_LOCKED', 'DATA_DIR_LOCKED', 'DATA_DIR_LOCKED', 'DATA_DIR_LOCKED', 'DATA_DIR_LOCKED', 'DATA_DIR_LOCKED', 'claimed']);
  });

  it('exits 1 before "ready" when the admin port or the protocol port is taken, and leaves the directory free', async () => {
    const data = dir();
    const { server, port } = await occupiedPort();
    try {
      const admin = await runCli(['start', '--data', data, '--port', '0', '--http-port', String(port), '--log-level', 'warn'], { timeoutMs: REFUSED_WITHIN_MS });
      assert.equal(admin.timedOut, false, 'the hub exited by itself');
      assert.equal(admin.code, 1);
      assert.doesNotMatch(admin.stdout, /ready/);
      assert.match(admin.stderr, new RegExp(`^corral: LISTEN_FAILED: cannot listen on the admin port 127\\.0\\.0\\.1:${port}: the port is in use .*\\(EADDRINUSE\\); stop what uses it, or choose another --http-port`));

      const protocol = await runCli(['start', '--data', data, '--port', String(port), '--http-port', '0', '--log-level', 'warn'], { timeoutMs: REFUSED_WITHIN_MS });
      assert.equal(protocol.timedOut, false, 'the hub exited by itself');
      assert.equal(protocol.code, 1);
      assert.doesNotMatch(protocol.stdout, /ready/);
      assert.match(protocol.stderr, new RegExp(`^corral: LISTEN_FAILED: cannot listen on the protocol port 127\\.0\\.0\\.1:${port}: .*--port`));
    } finally {
      server.close();
    }
    assert.equal(existsSync(join(data, LOCK)), false, 'the failed start released the lock');
    const hub = await startHub({ dataDir: data });
    await hub.stop();
  });

  it('names the path and what to do when the data directory is a file or cannot be written', async () => {
    const parent = dir();
    const file = join(parent, 'not-a-dir');
    writeFileSync(file, 'x');
    const onFile = await runCli(startArgs(file), { timeoutMs: REFUSED_WITHIN_MS });
    assert.equal(onFile.code, 1);
    assert.equal(onFile.stderr, `corral: DATA_DIR_UNUSABLE: cannot use data directory ${file}: a file (not a directory) has that name (EEXIST); `
      + 'choose another --data, or give the user running corral write access to it\n');
    const below = await runCli(startArgs(join(file, 'sub')), { timeoutMs: REFUSED_WITHIN_MS });
    assert.equal(below.code, 1);
    assert.match(below.stderr, new RegExp(`^corral: DATA_DIR_UNUSABLE: cannot use data directory ${join(file, 'sub')}: a file \\(not a directory\\) is in its path \\(ENOTDIR\\)`));

    const locked = join(parent, 'read-only');
    mkdirSync(locked);
    chmodSync(parent, 0o755);
    chmodSync(locked, 0o555);
    const denied = await claimAsUnprivileged(locked);
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stderr, new RegExp(`^corral: DATA_DIR_UNUSABLE: cannot use data directory ${locked}: permission denied \\(EACCES\\); choose another --data`));
  });
});
