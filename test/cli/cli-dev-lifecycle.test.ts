import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { processRunning } from '../../src/cli/process-running.js';
import { eventually } from '../support/eventually.js';
import { CLI } from '../support/hub-process.js';
import { occupiedPort } from '../support/occupied-port.js';
import { runCli } from '../support/run-cli.js';

interface DevRun {
  child: ChildProcess;
  out(): string;
  exited: Promise<number | null>;
  pid: number;
  hubs: Array<{ id: string; pid: number }>;
  pg: { pid: number; dir: string };
}

/** Starts `corral dev --hubs 2` and reads the pids and the temp directory it prints. */
async function startDev(): Promise<DevRun> {
  const child = spawn(process.execPath, [CLI, 'dev', '--hubs', '2', '--port', '0', '--durability', 'process'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await eventually(() => assert.match(out, /cluster ready: /, `stdout:\n${out}\nstderr:\n${err}`), 90_000);
  const pg = /^PostgreSQL {2}\S+ {2}pid (\d+) {2}data (\S+)$/m.exec(out);
  assert.ok(pg, out);
  const hubs = [...out.matchAll(/^(hub-\S+) {2}corral:\/\/\S+ {2}admin \S+ {2}pid (\d+)$/gm)].map((m) => ({ id: m[1]!, pid: Number(m[2]) }));
  assert.equal(hubs.length, 2, out);
  assert.match(out, new RegExp(`^corral dev pid ${child.pid}: `, 'm'), 'prints its own pid');
  return { child, out: () => out, exited, pid: child.pid!, hubs, pg: { pid: Number(pg[1]), dir: pg[2]! } };
}

function assertAllGone(dev: Pick<DevRun, 'hubs' | 'pg'>): void {
  for (const h of dev.hubs) assert.equal(processRunning(h.pid), false, `hub ${h.id} (pid ${h.pid}) still runs`);
  assert.equal(processRunning(dev.pg.pid), false, `PostgreSQL (pid ${dev.pg.pid}) still runs`);
  assert.equal(existsSync(dev.pg.dir), false, `${dev.pg.dir} is still there`);
}

describe('corral dev stops everything it started', () => {
  for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM'] as const) {
    it(`on ${signal}: stops the hubs, then PostgreSQL, says so, and removes its temp directory`, async () => {
      const dev = await startDev();
      try {
        dev.child.kill(signal);
        assert.equal(await dev.exited, 0);
        const lines = dev.out().split('\n');
        const from = lines.indexOf(`${signal}: stopping 2 hubs, then PostgreSQL`);
        assert.notEqual(from, -1, dev.out());
        assert.deepEqual(lines.slice(from + 1), [
          ...dev.hubs.map((h) => `  stopping ${h.id} (pid ${h.pid})`),
          `  stopping PostgreSQL (pid ${dev.pg.pid}) and removing ${dev.pg.dir}`,
          'stopped',
          '',
        ]);
        assertAllGone(dev);
      } finally {
        dev.child.kill('SIGKILL');
      }
    });
  }

  it('when a hub cannot start (its port is taken): exits 1 saying why, stops PostgreSQL and removes its temp directory', async () => {
    const { server, port } = await occupiedPort();
    try {
      const r = await runCli(['dev', '--hubs', '1', '--port', String(port), '--durability', 'process'], { timeoutMs: 90_000 });
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^corral: LISTEN_FAILED: cannot listen on the protocol port 127\\.0\\.0\\.1:${port}: `, 'm'));
      assert.match(r.stderr, new RegExp(`^corral dev: the hub on port ${port} exited \\(1\\) before it was ready$`, 'm'));
      const pg = /^PostgreSQL {2}\S+ {2}pid (\d+) {2}data (\S+)$/m.exec(r.stdout);
      assert.ok(pg, r.stdout);
      assert.deepEqual(r.stdout.split('\n').slice(-4), [
        'failed to start: stopping 0 hubs, then PostgreSQL',
        `  stopping PostgreSQL (pid ${pg[1]}) and removing ${pg[2]}`,
        'stopped',
        '',
      ]);
      assertAllGone({ hubs: [], pg: { pid: Number(pg[1]), dir: pg[2]! } });
    } finally {
      server.close();
    }
  });

  it('on SIGKILL of corral dev: the hubs and PostgreSQL notice and exit, and the temp directory goes', async () => {
    const dev = await startDev();
    dev.child.kill('SIGKILL');
    await dev.exited;
    // The hubs shut down gracefully, then PostgreSQL stops once they are gone.
    await eventually(() => assertAllGone(dev), 60_000);
  });
});
