import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, DataSet, type Client } from '../../src/client/index.js';
import { eventually } from '../support/eventually.js';
import { removeDir, startHub, tempDir, type HubProcess } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';

describe('corral data', () => {
  let hub: HubProcess;
  let dir: string;
  let client: Client;
  before(async () => {
    hub = await startHub();
    dir = tempDir();
    client = await connect(hub.url);
  });
  after(async () => {
    await client.close();
    await hub.stop();
    removeDir(dir);
  });
  const data = (args: string[]): ReturnType<typeof runCli> => runCli(['data', ...args, '--url', hub.url]);

  it('set, import, schedule --in: a server switches; get, status and rollback report it; --json for scripts', async () => {
    const file = join(dir, 'prices.json');
    writeFileSync(file, JSON.stringify({ apple: '1.20', pear: { eur: 2 } }));
    const imp = await data(['import', 'prices', file, '--json']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal((JSON.parse(imp.stdout) as { keys: number }).keys, 2);
    assert.equal((await data(['set', 'prices', 'plum', '0.80'])).code, 0);
    const ds = await DataSet.open(client, 'prices');
    const sch = await data(['schedule', 'prices', '--in', '1s', '--json']);
    assert.equal(sch.code, 0, sch.stderr);
    const staged = (JSON.parse(sch.stdout) as { staged: string }).staged;
    await eventually(() => assert.equal(ds.version, staged));
    assert.equal(ds.getString('plum'), '0.80');
    assert.deepEqual(ds.getJson('pear'), { eur: 2 });
    const get = await data(['get', 'prices', 'apple']);
    assert.equal(get.stdout, '1.20\n');
    await eventually(async () => {
      const st = await data(['status', 'prices', '--json']);
      const v = (JSON.parse(st.stdout) as { versions: Array<{ version: string; activated: number }> }).versions.find((x) => x.version === staged)!;
      assert.equal(v.activated, 1);
    });
    const api = (await (await fetch(`${hub.httpUrl}/api/sync/status`)).json()) as { dataSets: Array<{ dataSet: string; active: string }> };
    assert.equal(api.dataSets.find((d) => d.dataSet === 'prices')?.active, staged);
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    assert.match(metrics, /corral_sync_activations_total\{data_set="prices"\} 1/);
    assert.match(metrics, /corral_sync_rolls_total\{data_set="prices"\} 1/);
    const table = await data(['status', 'prices']);
    assert.match(table.stdout, /VERSION\s+STATE\s+KEYS\s+ACTIVATED/);
    assert.match(table.stdout, new RegExp(`${staged.replace('.', '\\.')}\\s+active\\s+3\\s+1`));
    assert.equal((await data(['delete', 'prices', 'plum'])).code, 0);
    assert.equal((await data(['schedule', 'prices', '--in', '1h'])).code, 0);
    assert.equal((await data(['get', 'prices', 'plum', '--staged', '--json'])).stdout.includes('"found":false'), true);
    const rb = await data(['rollback', 'prices']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, /rolled back/);
    assert.equal((await data(['get', 'prices', 'plum', '--production'])).stdout, '0.80\n');
    ds.close();
  });

  it('errors: usage exits 2, refused requests exit 1 with the stable code', async () => {
    assert.equal((await data(['schedule', 'prices', '--in', 'soon'])).code, 2);
    assert.equal((await data(['schedule', 'prices', '--at', 'tomorrow'])).code, 2);
    assert.equal((await data(['set', 'prices'])).code, 2);
    const past = await data(['schedule', 'prices', '--at', '2001-01-01T00:00:00Z']);
    assert.equal(past.code, 1);
    assert.match(past.stderr, /^corral: SCHEDULE_IN_PAST: /);
    const unknown = await data(['status', 'nonesuch']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /UNKNOWN_DATA_SET/);
  });
});
