import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Command } from 'commander';
import { corralProgram } from '../../src/cli/corral-program.js';
import { eventually } from '../support/eventually.js';
import { CLI, removeDir, startHub, type HubProcess } from '../support/hub-process.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function corral(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    // Only what a test sets: an operator's CORRAL_URL must not leak into these runs.
    if (opts.env?.CORRAL_URL === undefined) delete env.CORRAL_URL;
    if (opts.env?.CORRAL_TOKEN === undefined) delete env.CORRAL_TOKEN;
    const child = spawn(process.execPath, [CLI, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

interface TopicsJson {
  topics: Array<{ topic: string; lastSeq: number; retainCount: number; retainMs: number; subscriptions: Array<{ name: string; ackedSeq: number; attached: boolean }> }>;
}

describe('corral client commands', () => {
  let hub: HubProcess;
  const url = (): string[] => ['--url', hub.url];
  const topics = async (): Promise<TopicsJson> => {
    const r = await corral(['topics', '--json', ...url()]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as TopicsJson;
  };

  /** A topic without subscriptions keeps nothing beyond its retention [P-6.3]: keep what a later `sub` reads. */
  const keep = async (topic: string): Promise<void> => {
    const r = await corral(['retain', topic, '--count', '100000', ...url()]);
    assert.equal(r.code, 0, r.stderr);
  };

  before(async () => { hub = await startHub(); });
  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('pub - publishes 1,000 lines and prints "<seq>\\t<line>" in order; sub --count prints them and acknowledges them', async () => {
    await keep('cli');
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const pub = await corral(['pub', 'cli', '-', '--print-seq', ...url()], { input: lines.join('\n') + '\n' });
    assert.equal(pub.code, 0, pub.stderr);
    assert.deepEqual(pub.stdout.split('\n').slice(0, -1), lines.map((l, i) => `${i + 1}\t${l}`));
    // Not on a terminal: the last line on stderr is the final summary, counting every acknowledged publish.
    assert.equal(pub.stderr.split('\n').at(-2), 'corral pub: published 1000 messages to cli (seq 1-1000)');

    const sub = await corral(['sub', 'cli', 's', '--from', 'earliest', '--count', '1000'], { env: { CORRAL_URL: hub.url } });
    assert.equal(sub.code, 0, sub.stderr);
    assert.deepEqual(sub.stdout.split('\n').slice(0, -1), lines);
    await eventually(async () => {
      const s = (await topics()).topics.find((t) => t.topic === 'cli')?.subscriptions.find((x) => x.name === 's');
      assert.deepEqual(s && { ackedSeq: s.ackedSeq, attached: s.attached }, { ackedSeq: 1000, attached: false });
    });
  });

  it('pub <message> with --key, and sub --json shows seq, timestamp, key and payload', async () => {
    await keep('keyed');
    const pub = await corral(['pub', 'keyed', 'hello world', '--key', 'k1', '--print-seq', ...url()]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(pub.stdout, '1\thello world\n');
    const sub = await corral(['sub', 'keyed', 'j', '--from', 'earliest', '--json', '--count', '1', ...url()]);
    assert.equal(sub.code, 0, sub.stderr);
    const msg = JSON.parse(sub.stdout) as { seq: number; timestamp: number; key: string | null; payload: string };
    assert.deepEqual({ ...msg, timestamp: typeof msg.timestamp }, { seq: 1, timestamp: 'number', key: 'k1', payload: 'hello world' });
  });

  it('sub without --count runs until SIGTERM, then detaches having acknowledged what it printed', async () => {
    await keep('long');
    await corral(['pub', 'long', '-', ...url()], { input: 'a\nb\nc\n' });
    const child = spawn(process.execPath, [CLI, 'sub', 'long', 'live', '--from', 'earliest', ...url()]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await eventually(() => assert.equal(out, 'a\nb\nc\n'));
      await eventually(async () => {
        const s = (await topics()).topics.find((t) => t.topic === 'long')?.subscriptions.find((x) => x.name === 'live');
        assert.deepEqual(s && { ackedSeq: s.ackedSeq, attached: s.attached }, { ackedSeq: 3, attached: true });
      });
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      // Stopped by a signal, not on a terminal: a final summary all the same.
      assert.equal(err, 'corral sub: 3 messages printed, acknowledged through seq 3; subscription live of long kept\n');
    } finally {
      child.kill('SIGKILL');
    }
    await eventually(async () => {
      const s = (await topics()).topics.find((t) => t.topic === 'long')?.subscriptions.find((x) => x.name === 'live');
      assert.equal(s?.attached, false);
    });
  });

  it('topics and stats print tables; retain and unsub change the topic', async () => {
    // Retention first: a topic without subscriptions keeps nothing beyond it [P-6.3].
    const retain = await corral(['retain', 'tab', '--count', '10', '--age', '1h30m', ...url()]);
    assert.equal(retain.code, 0, retain.stderr);
    const t = (await topics()).topics.find((x) => x.topic === 'tab');
    assert.deepEqual(t && { retainCount: t.retainCount, retainMs: t.retainMs }, { retainCount: 10, retainMs: 5_400_000 });
    await corral(['pub', 'tab', 'x', ...url()]);
    const table = await corral(['topics', ...url()]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^TOPIC\s+OWNER\s+FIRST\s+LAST\s+STORED\s+SUBSCRIPTIONS\s+BACKLOG\n/);
    assert.match(table.stdout, /\ntab\s+hub-\S+\s+1\s+1\s+1\s+0\s+0\n/);
    const stats = await corral(['stats', ...url()]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^hubId\s+\S+$/m);
    assert.match(stats.stdout, /^memory\.rss\s+\d+$/m);
    const statsJson = await corral(['stats', '--json', ...url()]);
    assert.equal(typeof (JSON.parse(statsJson.stdout) as { uptimeMs: unknown }).uptimeMs, 'number');

    await corral(['sub', 'tab', 'gone', '--from', 'earliest', '--count', '1', ...url()]);
    const unsub = await corral(['unsub', 'tab', 'gone', ...url()]);
    assert.equal(unsub.code, 0, unsub.stderr);
    assert.deepEqual((await topics()).topics.find((x) => x.topic === 'tab')?.subscriptions, []);
    const again = await corral(['unsub', 'tab', 'gone', ...url()]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^corral: UNKNOWN_SUBSCRIPTION: /);
  });

  it('exits 1 with the error code when no hub answers, or the hub refuses', async () => {
    const dead = await corral(['pub', 't', 'x', '--url', 'corral://127.0.0.1:1']);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /^corral: CONNECTION_CLOSED: /);
    const stdin = await corral(['pub', 't', '-', '--url', 'corral://127.0.0.1:1'], { input: 'a\nb\n' });
    assert.equal(stdin.code, 1);
    const badTopic = await corral(['pub', 'bad topic', 'x', ...url()]);
    assert.equal(badTopic.code, 1);
    assert.match(badTopic.stderr, /^corral: INVALID_TOPIC: /);
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [['pub'], ['sub', 't'], ['sub', 't', 's', '--from', 'nowhere'], ['retain', 't', '--age', 'soon'], ['topics', '--url', 'corral://h:99999'], ['nonsense']]) {
      const r = await corral(args);
      assert.equal(r.code, 2, `corral ${args.join(' ')}: ${r.stderr}`);
      assert.notEqual(r.stderr, '');
    }
  });

  it('--help works for every command of the program, and the top-level help lists each', async () => {
    // Every command, nested ones too, as the program registers them: a new command cannot be left out.
    const paths = (cmd: Command, prefix: string[]): string[][] =>
      cmd.commands.flatMap((c) => [[...prefix, c.name()], ...paths(c, [...prefix, c.name()])]);
    const commands = paths(corralProgram(), []);
    assert.ok(commands.length >= 9, `only ${commands.length} commands found`);
    for (const path of commands) {
      const r = await corral([...path, '--help']);
      assert.equal(r.code, 0, `corral ${path.join(' ')} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: corral ${path.join(' ')} `), `corral ${path.join(' ')} --help prints its usage line`);
    }
    const top = await corral(['--help']);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^Usage: corral /);
    for (const [cmd] of commands.filter((p) => p.length === 1)) assert.match(top.stdout, new RegExp(`\\n  ${cmd}\\b`), `corral --help lists ${cmd}`);
  });
});
