import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { Gate } from '../../src/services/gates/gate.js';
import type { GateStatus } from '../../src/services/gates/gate-frames.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';

describe('corral gate', () => {
  let hub: HubProcess;
  let client: Client;
  before(async () => {
    hub = await startHub();
    client = await connect(hub.url);
  });
  after(async () => {
    await client.close();
    await hub.stop();
  });
  const corral = (args: string[]) => runCli([...args, '--url', hub.url]);

  it('create, status, set, release and drain, as JSON and as a table', async () => {
    const created = await corral(['gate', 'create', 'shop', '--limit', '1', '--lease', '30s', '--json']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((JSON.parse(created.stdout) as GateStatus).config.leaseMs, 30_000);
    const gate = Gate.open(client, 'shop');
    const slot = await gate.acquire();
    await gate.enqueue();
    const table = await corral(['gate', 'status', 'shop']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^GATE\s+LIMIT\s+HOLDERS\s+WAITING/);
    assert.match(table.stdout, /gate\|shop\s+1\s+1\s+1\s/);
    const set = await corral(['gate', 'set', 'shop', '--limit', '3', '--json']);
    assert.equal((JSON.parse(set.stdout) as GateStatus).config.limit, 3);
    slot.stop();
    const released = await corral(['gate', 'release', 'shop', slot.ticket, '--json']);
    assert.equal(released.code, 0, released.stderr);
    assert.equal((JSON.parse(released.stdout) as GateStatus).holders, 1);
    await gate.enqueue();
    const drained = await corral(['gate', 'drain', 'shop', '--json']);
    assert.equal((JSON.parse(drained.stdout) as GateStatus).waiting, 0);
    gate.close();
  });

  it('a limit of 0 and an unknown gate fail with their codes (exit 1); a missing --limit is a usage error (exit 2)', async () => {
    const zero = await corral(['gate', 'create', 'zero', '--limit', '0']);
    assert.equal(zero.code, 1);
    assert.match(zero.stderr, /INVALID_LIMIT/);
    const unknown = await corral(['gate', 'status', 'nowhere']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /UNKNOWN_GATE/);
    const usage = await corral(['gate', 'create', 'x']);
    assert.equal(usage.code, 2, usage.stderr);
  });
});
