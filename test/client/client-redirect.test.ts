import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect, isCorralError, tcpTransport, type CorralError } from '../../src/client/index.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame } from '../../src/protocol/frames.js';
import { eventually } from '../support/eventually.js';
import { startHub } from '../support/hub-process.js';
import { ack, error, isPublish, ScriptedHub } from './scripted-hub.js';

describe('client routing: redirects, retries, timeouts, keepalive', () => {
  const hubs: ScriptedHub[] = [];
  after(async () => { await Promise.all(hubs.map((h) => h.stop())); });

  it('stops following a redirect to the same hub after 5 redirects with REDIRECT_LIMIT [P-6.1]', async () => {
    const loop = await ScriptedHub.start((f, self) => (isPublish(f)
      ? [{ type: FrameType.REDIRECT, corr: f.corr, topic: f.topic, hubId: 'me', address: self.address, epoch: 1 }]
      : []));
    hubs.push(loop);
    const client = await connect(loop.url);
    try {
      await assert.rejects(client.publish('t', 'x'), (err) => isCorralError(err, 'REDIRECT_LIMIT'));
      assert.equal(loop.publishes().length, 6, 'the first try and 5 redirects');
    } finally {
      await client.close();
    }
  });

  it('follows a redirect to the owner and keeps sending that topic there', async () => {
    let seq = 0;
    const owner = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, ++seq)] : []));
    const bootstrap = await ScriptedHub.start((f) => {
      if (!isPublish(f)) return [];
      if (f.topic === 'moved') return [{ type: FrameType.REDIRECT, corr: f.corr, topic: f.topic, hubId: 'owner', address: owner.address, epoch: 3 }];
      return [ack(f, 100)];
    });
    hubs.push(owner, bootstrap);
    const opened: string[] = [];
    const client = await connect(bootstrap.url, {
      transport: (address) => {
        opened.push(`${address.host}:${address.port}`);
        return tcpTransport(address);
      },
    });
    try {
      const results = await Promise.all([client.publish('moved', 'a'), client.publish('moved', 'b')]);
      assert.deepEqual(results.map((r) => r.seq), [1, 2]);
      assert.deepEqual((await client.publish('moved', 'c')).seq, 3);
      assert.deepEqual((await client.publish('stays', 'd')).seq, 100);
      assert.deepEqual(owner.publishes().map((p) => p.payload.toString()), ['a', 'b', 'c'], 'the owner got the topic in order');
      assert.deepEqual(bootstrap.publishes().map((p) => p.payload.toString()), ['a', 'b', 'd'], 'after the redirect the bootstrap hub no longer sees the topic');
      const [a, b, c] = owner.publishes();
      assert.ok(a!.producerSeq < b!.producerSeq && b!.producerSeq < c!.producerSeq, 'producer sequences increase per topic [P-4.4]');
      assert.deepEqual(opened, [bootstrap.address, owner.address], 'one connection per hub, through the transport seam');
    } finally {
      await client.close();
    }
  });

  it('resends a publish refused with a retryable code, with the same producer id and sequence [P-4.4]', async () => {
    let refused = 0;
    const flaky = await ScriptedHub.start((f) => {
      if (!isPublish(f)) return [];
      return refused++ < 2 ? [error(f.corr, 'STORE_UNAVAILABLE')] : [ack(f, 7)];
    });
    hubs.push(flaky);
    const client = await connect(flaky.url, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    try {
      assert.deepEqual(await client.publish('t', 'x'), { seq: 7, duplicate: false });
      const sent = flaky.publishes();
      assert.equal(sent.length, 3);
      assert.ok(sent.every((p) => p.producerId === client.producerId && p.producerSeq === sent[0]!.producerSeq));
    } finally {
      await client.close();
    }
  });

  it('resends what a lost connection left unanswered, in order, with the same producer sequences [P-4.4]', async () => {
    let seq = 0;
    const dropping = await ScriptedHub.start((f, _hub, connection, socket) => {
      if (!isPublish(f)) return [];
      if (connection > 1) return [ack(f, ++seq)];
      if (f.payload.toString() === 'm4') socket.destroy();
      return [];
    });
    hubs.push(dropping);
    const client = await connect(dropping.url, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    try {
      const results = await Promise.all(['m0', 'm1', 'm2', 'm3', 'm4'].map((m) => client.publish('t', m)));
      assert.deepEqual(results.map((r) => r.seq), [1, 2, 3, 4, 5]);
      const sent = dropping.publishes();
      assert.equal(sent.length, 10);
      const first = sent.slice(0, 5);
      const resent = sent.slice(5);
      assert.deepEqual(resent.map((p) => p.payload.toString()), ['m0', 'm1', 'm2', 'm3', 'm4']);
      assert.deepEqual(resent.map((p) => p.producerSeq), first.map((p) => p.producerSeq));
      assert.ok(resent.every((p) => p.producerId === client.producerId));
    } finally {
      await client.close();
    }
  });

  it('re-attaches a subscription the hub stopped serving, without handing out a message twice [P-5.9]', async () => {
    let subscribes = 0;
    const deliver = (subId: number, seq: number): Frame => ({
      type: FrameType.DELIVER, subId, seq, timestamp: 1, key: undefined, payload: Buffer.from(`m${seq}`),
    });
    const moving = await ScriptedHub.start((f) => {
      if ('service' in f || f.type !== FrameType.SUBSCRIBE) return [];
      const subscribed: Frame = { type: FrameType.SUBSCRIBED, corr: f.corr, subId: f.subId, ackedSeq: 0, lastSeq: 2 };
      if (++subscribes === 1) {
        return [subscribed, deliver(f.subId, 1), { type: FrameType.ERROR, corr: 0, subId: f.subId, code: ERROR_CODES.NOT_OWNER.wire, message: 'moved' }];
      }
      return [subscribed, deliver(f.subId, 1), deliver(f.subId, 2)];
    });
    hubs.push(moving);
    const client = await connect(moving.url, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    try {
      const sub = await client.subscribe('t', 's', { from: 'earliest', credit: 10 });
      const first = await sub.next();
      const second = await sub.next();
      assert.deepEqual([first.value?.seq, second.value?.seq], [1, 2]);
      const attaches = moving.received.filter((f) => !('service' in f) && f.type === FrameType.SUBSCRIBE);
      assert.deepEqual(attaches.map((f) => 'start' in f && f.start), [{ kind: 'earliest' }, { kind: 'seq', seq: 2 }]);
      assert.equal(sub.buffered, 0);
    } finally {
      await client.close();
    }
  });

  it('does not retry a refusal that a retry cannot fix', async () => {
    const strict = await ScriptedHub.start((f) => (isPublish(f) ? [error(f.corr, 'INVALID_ARGUMENT')] : []));
    hubs.push(strict);
    const client = await connect(strict.url);
    try {
      await assert.rejects(client.publish('t', 'x'), (err) => isCorralError(err, 'INVALID_ARGUMENT'));
      assert.equal(strict.publishes().length, 1);
    } finally {
      await client.close();
    }
  });

  it('fails a request whose owner refuses the client\'s handshake with that refusal, naming the hub, after one attempt there', async () => {
    const owner = await startHub({ args: ['--token', 'owner-secret'] });
    try {
      const bootstrap = await ScriptedHub.start((f) => (isPublish(f)
        ? [{ type: FrameType.REDIRECT, corr: f.corr, topic: f.topic, hubId: 'owner', address: `127.0.0.1:${owner.port}`, epoch: 1 }]
        : []));
      hubs.push(bootstrap);
      const opened: string[] = [];
      const client = await connect(bootstrap.url, {
        token: 'another-secret',
        transport: (address) => {
          opened.push(`${address.host}:${address.port}`);
          return tcpTransport(address);
        },
      });
      try {
        // Not REDIRECT_LIMIT after bouncing five times: the owner's UNAUTHORIZED, which no retry changes.
        await assert.rejects(client.publish('t', 'x'), (err: CorralError) => {
          assert.ok(isCorralError(err, 'UNAUTHORIZED'), String(err));
          assert.match(err.message, new RegExp(`hub 127\\.0\\.0\\.1:${owner.port}, refused this client: missing or wrong token`));
          return true;
        });
        assert.deepEqual(opened, [bootstrap.address, `127.0.0.1:${owner.port}`]);
        assert.equal(bootstrap.publishes().length, 2, 'the first try, and the one after the owner refused');
      } finally {
        await client.close();
      }
    } finally {
      await owner.stop();
    }
  });

  it('rejects an unanswered request with TIMEOUT (a sent publish: OUTCOME_UNKNOWN), and checks the hub payload limit from WELCOME', async () => {
    const silent = await ScriptedHub.start(() => []);
    hubs.push(silent);
    const client = await connect(silent.url, { requestTimeoutMs: 200 });
    try {
      await assert.rejects(client.publish('t', 'x'), (err) => isCorralError(err, 'OUTCOME_UNKNOWN') && isCorralError(err.cause, 'TIMEOUT'));
      await assert.rejects(client.query('stats'), (err) => isCorralError(err, 'TIMEOUT'));
      await assert.rejects(client.publish('t', Buffer.alloc(1001)), (err) => isCorralError(err, 'PAYLOAD_TOO_LARGE'));
    } finally {
      await client.close();
    }
  });

  it('drops a connection whose hub does not answer PING [P-1.6]', async () => {
    const mute = await ScriptedHub.start(() => []);
    hubs.push(mute);
    const client = await connect(mute.url, { pingIntervalMs: 100, reconnect: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    const disconnects: CorralError[] = [];
    client.on('disconnect', (err) => disconnects.push(err));
    try {
      await eventually(() => assert.equal(disconnects[0]?.code, 'TIMEOUT'));
      assert.ok(mute.received.some((f) => !('service' in f) && f.type === FrameType.PING));
    } finally {
      await client.close();
    }
  });
});
