import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TopicsResult } from '../../src/protocol/query-results.js';
import { CLI, removeDir, startHub, tempDir } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';

const lines = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);

describe('corral backup and corral restore of a standalone hub', () => {
  const work = tempDir();
  after(() => removeDir(work));

  it('backs up a hub while messages are being published, restores into a new directory, and a consumer reads everything from the snapshot in order', async () => {
    const hub = await startHub();
    const backup = join(work, 'corral.backup');
    let writer: ReturnType<typeof spawn> | undefined;
    try {
      const url = ['--url', hub.url];
      assert.equal((await runCli(['sub', 'orders', 'billing', '--count', '0', '--quiet', ...url])).code, 0);
      assert.equal((await runCli(['pub', 'orders', '-', '--quiet', ...url], { input: lines(1, 500).join('\n') + '\n' })).code, 0);
      // Publishing goes on while the backup runs: the backup is a snapshot of one moment.
      writer = spawn(process.execPath, [CLI, 'pub', 'orders', '-', '--quiet', ...url], { stdio: ['pipe', 'ignore', 'ignore'] });
      writer.stdin!.write(lines(501, 20_000).join('\n') + '\n');
      const r = await runCli(['backup', backup, '--data', hub.dataDir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^corral backup: \S+corral\.db and \d+ journal segment\(s\) copied to \S+corral\.backup \(\d+ pages, schema version \d+\)\n$/);
      writer.stdin!.end();
      await new Promise((resolve) => writer!.once('close', resolve));
    } finally {
      writer?.kill('SIGKILL');
      await hub.stop();
      removeDir(hub.dataDir);
    }

    const restored = join(work, 'restored');
    const r = await runCli(['restore', backup, '--data', restored]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(restored, 'corral.lock')), false, 'restore released the directory');
    const again = await startHub({ dataDir: restored });
    try {
      const url = ['--url', again.url];
      const t = (JSON.parse((await runCli(['topics', '--json', ...url])).stdout) as TopicsResult).topics.find((x) => x.topic === 'orders')!;
      assert.ok(t.lastSeq >= 500 && t.lastSeq <= 20_000, `snapshot holds seqs 1-${t.lastSeq}`);
      assert.deepEqual(t.subscriptions.map((s) => ({ name: s.name, ackedSeq: s.ackedSeq, backlog: s.backlog })), [{ name: 'billing', ackedSeq: 0, backlog: t.lastSeq }]);
      const sub = await runCli(['sub', 'orders', 'billing', '--count', String(t.lastSeq), '--quiet', ...url]);
      assert.equal(sub.code, 0, sub.stderr);
      assert.deepEqual(sub.stdout.split('\n').slice(0, -1), lines(1, t.lastSeq));
    } finally {
      await again.stop();
    }
  });

  it('refuses to overwrite: an existing backup file, a data directory that holds a store or is in use', async () => {
    const hub = await startHub();
    try {
      const file = join(work, 'exists.backup');
      writeFileSync(file, 'x');
      const over = await runCli(['backup', file, '--data', hub.dataDir]);
      assert.equal(over.code, 1);
      assert.equal(over.stderr, `corral: INVALID_ARGUMENT: ${file} exists; back up to a new file\n`);
      const inUse = await runCli(['restore', file, '--data', hub.dataDir]);
      assert.equal(inUse.code, 1);
      assert.match(inUse.stderr, new RegExp(`^corral: DATA_DIR_LOCKED: data directory ${hub.dataDir} is in use by the hub with pid ${hub.pid} `));
    } finally {
      await hub.stop();
    }
    const full = await runCli(['restore', join(work, 'exists.backup'), '--data', hub.dataDir]);
    assert.equal(full.code, 1);
    assert.match(full.stderr, /^corral: DATA_DIR_UNUSABLE: \S+corral\.db exists: restore into an empty data directory/);
    const notBackup = await runCli(['restore', join(work, 'exists.backup'), '--data', join(work, 'empty')]);
    assert.equal(notBackup.code, 1);
    assert.match(notBackup.stderr, /^corral: INVALID_ARGUMENT: \S+exists\.backup is not/);
    removeDir(hub.dataDir);
  });
});
