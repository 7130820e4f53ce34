import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame } from '../../src/protocol/frames.js';
import { eventually } from '../support/eventually.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

function publish(corr: number, topic: string): Frame {
  return { type: FrameType.PUBLISH, corr, topic, key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from(`p${corr}`) };
}

/**
 * [P-1.7] A connection is closed after 100 ERRORs it caused. Refusals the hub
 * causes (its store failing, shutting down, fencing, a topic moving) are not
 * the client's fault and must not close a busy publisher's connection.
 */
describe('hub: its own refusals do not count against the client', () => {
  let pg: PostgresServer;
  let hub: HubProcess;
  before(async () => {
    pg = await startPostgres();
    hub = await startHub({ args: ['--store', pg.url] });
  });
  after(async () => {
    await pg.startServer();
    await hub.stop();
    await pg.stop();
  });

  it('150 publishes refused with STORE_UNAVAILABLE while PostgreSQL is down leave the connection open; it publishes once the store is back', { timeout: 120_000 }, async () => {
    const conn = await RawConnection.hello(hub.port);
    await pg.stopServer();
    const refusals = 150;
    for (let i = 1; i <= refusals; i++) conn.send(publish(i, 'outage'));
    const errors = await conn.waitForCount((f) => f.type === FrameType.ERROR, refusals, 60_000);
    assert.ok(errors.every((f) => 'code' in f && f.code === ERROR_CODES.STORE_UNAVAILABLE.wire), 'every publish was refused by the store');
    assert.equal(conn.closed, false, 'the connection stays open');
    await pg.startServer();
    let corr = 1000;
    await eventually(async () => {
      const c = ++corr;
      conn.send(publish(c, 'after.outage'));
      const answer = await conn.waitFor((f) => (f.type === FrameType.PUBLISH_ACK || f.type === FrameType.ERROR) && 'corr' in f && f.corr === c);
      assert.equal(answer.type, FrameType.PUBLISH_ACK);
    }, 60_000);
    conn.close();
  });

  it('still closes a connection after 100 errors it caused itself', { timeout: 60_000 }, async () => {
    const conn = await RawConnection.hello(hub.port);
    for (let i = 1; i <= 101; i++) conn.send(publish(i, 'bad topic name'));
    await conn.waitClosed(30_000);
    const codes = conn.frames.filter((f) => f.type === FrameType.ERROR).map((f) => 'code' in f && f.code);
    assert.equal(codes.length, 101);
    assert.ok(codes.every((c) => c === ERROR_CODES.INVALID_TOPIC.wire));
  });
});
