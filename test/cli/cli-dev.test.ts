import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { HubsResult, TopicsResult } from '../../src/protocol/query-results.js';
import { CLI } from '../support/hub-process.js';

const run = promisify(execFile);

describe('corral dev', () => {
  it('starts PostgreSQL and N hubs, answers `corral hubs` and `corral topics`, and stops everything on SIGINT', async () => {
    const dev = spawn(process.execPath, [CLI, 'dev', '--hubs', '2', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 60_000);
        dev.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /cluster ready: --url (\S+)/.exec(out);
          if (m) { clearTimeout(timer); resolve(m[1]!); }
        });
      });
      await run(process.execPath, [CLI, 'pub', '--url', url, 'dev.topic', 'hello']);
      const hubs = JSON.parse((await run(process.execPath, [CLI, 'hubs', '--json', '--url', url])).stdout) as HubsResult;
      assert.equal(hubs.hubs.length, 2);
      for (const h of hubs.hubs) assert.ok(Number.isInteger(h.pid) && h.address?.startsWith('127.0.0.1:'));
      const topics = JSON.parse((await run(process.execPath, [CLI, 'topics', '--json', '--url', url])).stdout) as TopicsResult;
      const owner = topics.topics.find((t) => t.topic === 'dev.topic')?.owner;
      assert.ok(hubs.hubs.some((h) => h.hubId === owner), `owner ${owner} is a live hub`);
      dev.kill('SIGINT');
      assert.equal(await exited, 0);
      for (const h of hubs.hubs) assert.throws(() => process.kill(h.pid, 0), 'hub process is gone');
    } finally {
      if (dev.exitCode === null) dev.kill('SIGKILL');
    }
  });
});
