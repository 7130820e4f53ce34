import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, isCorralError } from '../../src/client/index.js';
import { encodeFrame } from '../../src/protocol/encode.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame } from '../../src/protocol/frames.js';
import { eventually } from '../support/eventually.js';
import { removeDir, startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

/** A client that completed HELLO, then sends `frame` over and over and never reads again. */
function flood(conn: RawConnection, frame: Frame): { written: () => number } {
  conn.socket.pause();
  const batch = Buffer.concat(Array.from({ length: 200 }, () => encodeFrame(frame)));
  let written = 0;
  const more = (): void => {
    while (!conn.closed && !conn.socket.destroyed) {
      written += batch.length;
      if (!conn.socket.write(batch)) {
        conn.socket.once('drain', more);
        return;
      }
    }
  };
  more();
  return { written: () => written };
}

async function metric(hub: HubProcess, name: string, label: string): Promise<number> {
  const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(label));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('hub: clients that do not read, and too many clients', () => {
  let hub: HubProcess;
  before(async () => { hub = await startHub({ args: ['--max-connections', '400'] }); });
  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('300 connections that send QUERY frames and never read: a new client still completes its handshake and publishes', { timeout: 120_000 }, async () => {
    const flooders = await Promise.all(Array.from({ length: 300 }, () => RawConnection.hello(hub.port)));
    const floods = flooders.map((c) => flood(c, { type: FrameType.QUERY, corr: 1, kind: 'stats', args: '' }));
    // Every flooder has sent far more than the hub answers before its replies back up.
    await eventually(() => assert.ok(floods.every((f) => f.written() > 256 * 1024)), 60_000);
    const client = await connect(hub.url, { connectTimeoutMs: 10_000 });
    try {
      assert.equal((await client.publish('after.flood', 'x')).seq, 1);
    } finally {
      await client.close();
      for (const c of flooders) c.close();
    }
  });

  it('a client that sends PINGs and never reads is closed with SLOW_READER once its replies pass the bound; others are served', { timeout: 60_000 }, async () => {
    const before = await metric(hub, 'corral_errors_total', 'code="SLOW_READER"');
    const reader = await RawConnection.hello(hub.port);
    const pinger = await RawConnection.hello(hub.port);
    flood(pinger, { type: FrameType.PING, id: 7 });
    await eventually(async () => assert.ok(await metric(hub, 'corral_errors_total', 'code="SLOW_READER"') > before), 30_000);
    // The hub destroyed it: the flooder's writes fail.
    await pinger.waitClosed(30_000);
    reader.send({ type: FrameType.PING, id: 9 });
    await reader.waitFor((f) => f.type === FrameType.PONG && 'id' in f && f.id === 9);
    reader.close();
  });

  it('refuses a connection past --max-connections with CONNECTION_LIMIT in place of WELCOME, and serves again once one closes', { timeout: 60_000 }, async () => {
    const held: RawConnection[] = [];
    try {
      await eventually(async () => assert.equal(await metric(hub, 'corral_connections', ''), 0), 30_000);
      for (let i = 0; i < 400; i++) held.push(await RawConnection.open(hub.port));
      const refused = await RawConnection.open(hub.port);
      const err = await refused.waitFor((f) => f.type === FrameType.ERROR);
      assert.equal('code' in err && err.code, ERROR_CODES.CONNECTION_LIMIT.wire);
      await refused.waitClosed();
      await assert.rejects(connect(hub.url, { reconnect: { maxAttempts: 0 } }), (e) => isCorralError(e, 'CONNECTION_LIMIT'));
      held.pop()!.close();
      await eventually(async () => {
        const c = await connect(hub.url);
        await c.close();
      }, 30_000);
    } finally {
      for (const c of held) c.close();
    }
  });

  it('reads no more than 16 KiB of a frame before the handshake', { timeout: 30_000 }, async () => {
    const stranger = await RawConnection.open(hub.port);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(100_000, 0);
    stranger.sendBytes(prefix);
    const err = await stranger.waitFor((f) => f.type === FrameType.ERROR);
    assert.equal('code' in err && err.code, ERROR_CODES.FRAME_TOO_LARGE.wire);
    await stranger.waitClosed();
  });
});
