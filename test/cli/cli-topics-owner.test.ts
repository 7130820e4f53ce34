import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TopicsResult } from '../../src/protocol/query-results.js';
import { eventually } from '../support/eventually.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { removeDir, startHub, type HubProcess } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';

async function topicOwner(hub: HubProcess, topic: string): Promise<string | undefined> {
  const r = await runCli(['topics', '--json', '--url', hub.url]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as TopicsResult).topics.find((t) => t.topic === topic)?.owner;
}

describe('corral topics in a cluster', () => {
  let pg: PostgresServer;
  before(async () => { pg = await startPostgres({ fsync: false }); });
  after(async () => { await pg.stop(); });

  it('does not name a hub killed with SIGKILL as the owner of its topics', async () => {
    const args = ['--store', pg.url, '--lease', '1000', '--rebalance-interval', '0'];
    const [a, b] = await Promise.all([startHub({ args }), startHub({ args })]);
    try {
      assert.equal((await runCli(['pub', 'orphan', 'x', '--quiet', '--url', a.url])).code, 0);
      const ownerId = await topicOwner(b, 'orphan');
      assert.ok(ownerId, 'a live owner is named');
      const hubs = JSON.parse((await runCli(['hubs', '--json', '--url', b.url])).stdout) as { hubs: Array<{ hubId: string; pid: number }> };
      const owner = [a, b].find((h) => h.pid === hubs.hubs.find((x) => x.hubId === ownerId)?.pid)!;
      const survivor = owner === a ? b : a;
      await owner.kill('SIGKILL');
      // Once its lease lapses, nobody has taken the topic yet (no request for it): no owner.
      await eventually(async () => assert.equal(await topicOwner(survivor, 'orphan'), undefined), 30_000);
      const table = await runCli(['topics', '--url', survivor.url]);
      assert.match(table.stdout, /\norphan\s+-\s+/);
    } finally {
      await Promise.all([a.kill('SIGKILL'), b.kill('SIGKILL')]);
      removeDir(a.dataDir);
      removeDir(b.dataDir);
    }
  });
});
