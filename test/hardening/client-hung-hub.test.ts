import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect, isCorralError, type CorralError } from '../../src/client/index.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { PublishFrame } from '../../src/protocol/frames.js';
import { eventually } from '../support/eventually.js';
import { ack, isPublish, redirect, ScriptedHub } from '../client/scripted-hub.js';

/** Keepalive short enough for a test, long enough for a busy machine. */
const KEEPALIVE = { pingIntervalMs: 100, pingTimeoutMs: 500 };

describe('client: a hub that stops answering', () => {
  const hubs: ScriptedHub[] = [];
  after(async () => { await Promise.all(hubs.map((h) => h.stop())); });

  it('leaves a hub that accepts the connection but sends no WELCOME, within the keepalive timeout, and takes the next address', { timeout: 30_000 }, async () => {
    const hung = await ScriptedHub.start(() => []);
    hung.frozen = true;
    const good = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, 7)] : []));
    hubs.push(hung, good);
    const client = await connect([hung.url, good.url], { ...KEEPALIVE, connectTimeoutMs: 60_000 });
    try {
      assert.equal((await client.publish('t', 'x')).seq, 7);
      assert.equal(good.publishes().length, 1);
    } finally {
      await client.close();
    }
  });

  it('moves the publishes in flight on a hung owner to the next owner, once, with their producer sequences, however long the cluster still names the hung one', { timeout: 30_000 }, async () => {
    const owner = await ScriptedHub.start((f, self) => {
      // Takes the publishes, then hangs as SIGSTOP would: no answer, no PONG, no WELCOME.
      if (isPublish(f) && self.publishes().length === 2) self.frozen = true;
      return [];
    });
    let seq = 40;
    const next = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, ++seq)] : []));
    let asked = 0;
    // The cluster names the hung owner until its lease lapses: more times than the redirect limit (5).
    const bootstrap = await ScriptedHub.start((f) => (isPublish(f) ? [redirect(f.corr, f.topic, ++asked <= 30 ? owner : next, asked <= 30 ? 1 : 2)] : []));
    hubs.push(owner, next, bootstrap);
    const client = await connect(bootstrap.url, KEEPALIVE);
    try {
      const results = await Promise.all([client.publish('t', 'a'), client.publish('t', 'b')]);
      assert.deepEqual(results, [{ seq: 41, duplicate: false }, { seq: 42, duplicate: false }]);
      const sent = (frames: PublishFrame[]): string[] => frames.map((p) => `${p.payload.toString()}/${p.producerId}/${p.producerSeq}`);
      assert.equal(owner.publishes().length, 2, 'the hung owner got both, once');
      assert.deepEqual(sent(next.publishes()), sent(owner.publishes()), 'the next owner got the same publishes, in order, with the same producer sequences');
      assert.ok(asked > 30, `the client asked the bootstrap hub ${asked} times`);
    } finally {
      await client.close();
    }
  });

  it('reports a publish given up after it reached a hub as OUTCOME_UNKNOWN, and one never sent with its own error', { timeout: 30_000 }, async () => {
    const silent = await ScriptedHub.start(() => []);
    hubs.push(silent);
    // Keepalive off the table: the hub is silent but the connection stays.
    const client = await connect(silent.url, { pingIntervalMs: 60_000, pingTimeoutMs: 60_000 });
    const inFlight = client.publish('t', 'sent');
    const failures: CorralError[] = [];
    const caught = inFlight.catch((err: CorralError) => { failures.push(err); });
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (silent.publishes().length === 1) { clearInterval(poll); resolve(); }
      }, 10);
      setTimeout(() => { clearInterval(poll); reject(new Error('the publish never reached the hub')); }, 10_000);
    });
    const neverSent = assert.rejects(client.publish('t', 'queued'), (err) => isCorralError(err, 'CLIENT_CLOSED'));
    await client.close();
    await caught;
    await neverSent;
    assert.ok(isCorralError(failures[0], 'OUTCOME_UNKNOWN'), `in flight at close: ${failures[0]?.code}`);
    assert.ok(isCorralError(failures[0]?.cause, 'CLIENT_CLOSED'));
    assert.equal(silent.publishes().length, 1);
  });

  it('reports a publish whose connection was lost, and whose deadline then passed, as OUTCOME_UNKNOWN', { timeout: 30_000 }, async () => {
    const dropper = await ScriptedHub.start((f, _hub, _conn, socket) => {
      if (isPublish(f)) socket.destroy();
      return [];
    });
    hubs.push(dropper);
    const client = await connect(dropper.url, { requestTimeoutMs: 500, reconnect: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    try {
      await assert.rejects(client.publish('t', 'x'), (err) => isCorralError(err, 'OUTCOME_UNKNOWN') && isCorralError(err.cause, 'TIMEOUT'));
      assert.equal(dropper.publishes().length, 1);
    } finally {
      await client.close();
    }
  });

  it('a client whose own event loop stalled does not blame a hub that answered its PING meanwhile', { timeout: 30_000 }, async () => {
    let stalls = 0;
    const answering = await ScriptedHub.start((f) => {
      if ('service' in f || f.type !== FrameType.PING) return isPublish(f) ? [ack(f, 1)] : [];
      if (stalls < 3) {
        stalls++;
        // The PONG is written now; the client's process (this one) then stalls
        // past the keepalive timeout before it can read it.
        setImmediate(() => {
          const until = Date.now() + KEEPALIVE.pingTimeoutMs * 3;
          while (Date.now() < until) { /* stalled event loop */ }
        });
      }
      return [{ type: FrameType.PONG, id: f.id }];
    });
    hubs.push(answering);
    const client = await connect(answering.url, KEEPALIVE);
    const disconnects: CorralError[] = [];
    client.on('disconnect', (e) => disconnects.push(e));
    try {
      await eventually(() => assert.equal(stalls, 3));
      assert.equal((await client.publish('t', 'a')).seq, 1);
      assert.deepEqual(disconnects.map((e) => e.code), [], 'the connection was kept');
    } finally {
      await client.close();
    }
  });
});
