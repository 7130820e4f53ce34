import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { TopicsResult } from '../../src/protocol/query-results.js';
import { eventually } from '../support/eventually.js';
import { CLI, removeDir, startHub, type HubProcess } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';

describe('corral delete <topic> [P-6.5]', () => {
  let hub: HubProcess;
  const url = (): string[] => ['--url', hub.url];
  const topic = async (name: string): Promise<TopicsResult['topics'][number] | undefined> => {
    const r = await runCli(['topics', '--json', ...url()]);
    return (JSON.parse(r.stdout) as TopicsResult).topics.find((t) => t.topic === name);
  };
  before(async () => { hub = await startHub(); });
  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('removes the messages, the subscriptions (ending an attached consumer) and the retention; seqs continue', async () => {
    assert.equal((await runCli(['retain', 'doomed', '--count', '100', ...url()])).code, 0);
    assert.equal((await runCli(['sub', 'doomed', 'idle', '--count', '0', '--quiet', ...url()])).code, 0);
    assert.equal((await runCli(['pub', 'doomed', '-', '--quiet', ...url()], { input: 'a\nb\nc\n' })).code, 0);
    const live = spawn(process.execPath, [CLI, 'sub', 'doomed', 'live', '--from', 'earliest', ...url()]);
    let out = '';
    let err = '';
    live.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    live.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((resolve) => live.once('close', resolve));
    try {
      await eventually(() => assert.equal(out, 'a\nb\nc\n'));
      const del = await runCli(['delete', 'doomed', ...url()]);
      assert.equal(del.code, 0, del.stderr);
      assert.equal(del.stderr, 'corral delete: topic doomed deleted (messages, subscriptions and retention)\n');
      assert.equal(await exited, 1);
      assert.match(err, /^corral: SUBSCRIPTION_DELETED: /m);
    } finally {
      live.kill('SIGKILL');
    }
    const t = await topic('doomed');
    assert.deepEqual(t && { stored: t.stored, lastSeq: t.lastSeq, subscriptions: t.subscriptions, retainCount: t.retainCount }, { stored: 0, lastSeq: 3, subscriptions: [], retainCount: 0 });
    const again = await runCli(['pub', 'doomed', 'later', '--print-seq', '--quiet', ...url()]);
    assert.equal(again.stdout, '4\tlater\n');
  });

  it('refuses a topic that never existed with UNKNOWN_TOPIC, and does not create it', async () => {
    const r = await runCli(['delete', 'never.was', ...url()]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'corral: UNKNOWN_TOPIC: no topic never.was\n');
    assert.equal(await topic('never.was'), undefined);
  });
});
