import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TopicsResult } from '../../src/protocol/query-results.js';
import { eventually } from '../support/eventually.js';
import { CLI, removeDir, startHub, type HubProcess } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';

const WARNING = /^corral pub: warning: topic (\S+) has no subscription and no retention, so nothing keeps these messages: they are trimmed within seconds\. Create the subscription first \(corral sub \S+ <name> --count 0\), or keep messages \(corral retain \S+ --count N, or corral start --retain-count N\)$/m;

describe('corral pub and sub: summaries, warnings and modes', () => {
  let hub: HubProcess;
  const url = (): string[] => ['--url', hub.url];
  const topics = async (h = hub): Promise<TopicsResult> => {
    const r = await runCli(['topics', '--json', '--url', h.url]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as TopicsResult;
  };

  // A short GC interval so an unkept message is trimmed while the test looks.
  before(async () => { hub = await startHub({ args: ['--gc-interval', '50'] }); });
  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('pub into a topic nothing keeps: a summary, a warning, and `topics` shows the emptied topic without FIRST > LAST', async () => {
    const r = await runCli(['pub', 'void', 'lost', ...url()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^corral pub: published 1 message to void \(seq 1\)$/m);
    assert.equal(WARNING.exec(r.stderr)?.[1], 'void');
    await eventually(async () => assert.equal((await topics()).topics.find((t) => t.topic === 'void')?.stored, 0));
    const table = await runCli(['topics', ...url()]);
    assert.match(table.stdout, /\nvoid\s+hub-\S+\s+-\s+1\s+0\s+0\s+0\n/);
  });

  it('sub --count 0 creates the subscription without reading; later publishes are kept for it, without a warning', async () => {
    const create = await runCli(['sub', 'kept', 'worker', '--count', '0', ...url()]);
    assert.equal(create.code, 0, create.stderr);
    assert.equal(create.stdout, '');
    assert.equal(create.stderr, 'corral sub: 0 messages printed; subscription worker of kept kept\n');
    assert.deepEqual((await topics()).topics.find((t) => t.topic === 'kept')?.subscriptions.map((s) => s.name), ['worker']);
    const pub = await runCli(['pub', 'kept', '-', ...url()], { input: 'one\ntwo\nthree\n' });
    assert.equal(pub.code, 0, pub.stderr);
    // Standard input is not a terminal here: the summary is the one line on stderr.
    assert.equal(pub.stderr, 'corral pub: published 3 messages to kept (seq 1-3)\n');
    const read = await runCli(['sub', 'kept', 'worker', '--count', '3', ...url()]);
    assert.equal(read.stdout, 'one\ntwo\nthree\n');
    assert.equal(read.stderr, 'corral sub: 3 messages printed, acknowledged through seq 3; subscription worker of kept kept\n');
  });

  it('pub --file publishes a whole file (or all of standard input with "-") as one message', async () => {
    await runCli(['sub', 'files', 'reader', '--count', '0', '--quiet', ...url()]);
    const path = join(hub.dataDir, 'message.txt');
    const text = 'line one\nline two\n\ttabbed\n';
    writeFileSync(path, text);
    const fromFile = await runCli(['pub', 'files', '--file', path, '--print-seq', ...url()]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(fromFile.stdout, `1\t${path}\n`);
    const fromStdin = await runCli(['pub', 'files', '--file', '-', '--quiet', ...url()], { input: 'a\nb\n' });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal(fromStdin.stderr, '');
    const read = await runCli(['sub', 'files', 'reader', '--count', '2', '--json', ...url()]);
    assert.deepEqual(read.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { payload: string }).payload), [text, 'a\nb\n']);
    const both = await runCli(['pub', 'files', 'x', '--file', path, ...url()]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give a message or --file, not both/);
  });

  it('a new subscription starts at latest by default, as in the library; --from earliest reads what is stored', async () => {
    assert.equal((await runCli(['retain', 'start', '--count', '100', ...url()])).code, 0);
    assert.equal((await runCli(['pub', 'start', 'before', '--quiet', ...url()])).code, 0);
    const child = spawn(process.execPath, [CLI, 'sub', 'start', 'late', '--count', '1', '--quiet', ...url()]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      await eventually(async () => assert.equal((await topics()).topics.find((t) => t.topic === 'start')?.subscriptions.find((s) => s.name === 'late')?.attached, true));
      assert.equal((await runCli(['pub', 'start', 'after', '--quiet', ...url()])).code, 0);
      assert.equal(await exited, 0);
      assert.equal(out, 'after\n');
    } finally {
      child.kill('SIGKILL');
    }
    const earliest = await runCli(['sub', 'start', 'history', '--from', 'earliest', '--count', '2', '--quiet', ...url()]);
    assert.equal(earliest.stdout, 'before\nafter\n');
  });

  it('corral start --retain-count keeps messages of topics without their own retention, and pub does not warn', async () => {
    const keeping = await startHub({ args: ['--retain-count', '10', '--gc-interval', '50'] });
    try {
      const pub = await runCli(['pub', 'history', '-', '--url', keeping.url], { input: 'h1\nh2\n' });
      assert.equal(pub.code, 0, pub.stderr);
      assert.doesNotMatch(pub.stderr, WARNING);
      const t = (await topics(keeping)).topics.find((x) => x.topic === 'history');
      assert.deepEqual(t && { retainCount: t.retainCount, stored: t.stored }, { retainCount: 10, stored: 2 });
      const read = await runCli(['sub', 'history', 'late', '--from', 'earliest', '--count', '2', '--quiet', '--url', keeping.url]);
      assert.equal(read.stdout, 'h1\nh2\n');
    } finally {
      await keeping.stop();
      removeDir(keeping.dataDir);
    }
  });
});
