import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TopicsResult } from '../../src/protocol/query-results.js';
import { removeDir, startHub, tempDir } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';

/** The default retention a hub applies, read back through a topic it has no other retention for. */
async function defaultRetainCount(opts: { args: string[]; env?: Record<string, string> }): Promise<number | undefined> {
  const hub = await startHub(opts);
  try {
    assert.equal((await runCli(['pub', 'probe', 'x', '--quiet', '--url', hub.url])).code, 0);
    const r = await runCli(['topics', '--json', '--url', hub.url]);
    return (JSON.parse(r.stdout) as TopicsResult).topics.find((t) => t.topic === 'probe')?.retainCount;
  } finally {
    await hub.stop();
    removeDir(hub.dataDir);
  }
}

describe('corral start --config', () => {
  const dir = tempDir();
  after(() => removeDir(dir));
  const config = (name: string, body: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };

  it('takes options from the file; the environment overrides it, and flags override both', async () => {
    const path = config('corral.json', { 'retain-count': 7, 'gc-interval': 100, durability: 'process' });
    assert.equal(await defaultRetainCount({ args: ['--config', path] }), 7);
    assert.equal(await defaultRetainCount({ args: [], env: { CORRAL_CONFIG: path } }), 7);
    assert.equal(await defaultRetainCount({ args: ['--config', path], env: { CORRAL_RETAIN_COUNT: '9' } }), 9);
    assert.equal(await defaultRetainCount({ args: ['--config', path, '--retain-count', '11'], env: { CORRAL_RETAIN_COUNT: '9' } }), 11);
  });

  it('refuses an unknown option, a bad value or a file that is not JSON, naming the file (exit 2)', async () => {
    const cases: Array<[string, RegExp]> = [
      [config('unknown.json', { prot: 7400 }), /configuration file \S+unknown\.json: unknown option "prot"/],
      [config('bad-number.json', { 'max-payload': 'lots' }), /configuration file \S+bad-number\.json: "max-payload": expected a whole number/],
      [config('bad-choice.json', { durability: 'maybe' }), /configuration file \S+bad-choice\.json: "durability": .*Allowed choices are fsync, process/],
      [config('not-json.json', '{'), /cannot read the configuration file \S+not-json\.json/],
    ];
    writeFileSync(join(dir, 'not-json.json'), '{ "port": ');
    for (const [path, message] of cases) {
      const r = await runCli(['start', '--config', path, '--data', join(dir, 'data'), '--port', '0', '--http-port', '0'], { timeoutMs: 20_000 });
      assert.equal(r.code, 2, `${path}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stdout, /ready/);
    }
  });
});
