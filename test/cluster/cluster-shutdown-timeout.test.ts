import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/client/index.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

describe('cluster: a graceful stop is bounded', () => {
  let pg: PostgresServer;
  let hub: HubProcess;
  before(async () => {
    pg = await startPostgres();
    // 1 ms: the stop, which waits on the store at least once, cannot finish first on any machine.
    hub = await startHub({ args: ['--store', pg.url, '--shutdown-timeout', '1ms'] });
  });
  after(async () => {
    await hub.kill();
    await pg.stop();
  });

  it('ends the process after --shutdown-timeout when the store is gone, with exit code 1 and a reason', { timeout: 120_000 }, async () => {
    const client = await connect(hub.url);
    await client.publish('bounded', 'x');
    await client.close();
    await pg.stopServer();
    const exited = new Promise<number | null>((resolve) => hub.child.once('exit', (code) => resolve(code)));
    hub.child.kill('SIGTERM');
    assert.equal(await exited, 1);
    assert.match(hub.stderr(), /shutdown did not finish within 1 ms/);
  });
});
