import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, isCorralError, type Client, type Message, type Subscription, type TopicInfo } from '../../src/client/index.js';
import { eventually } from '../support/eventually.js';
import { removeDir, startHub, type HubProcess } from '../support/hub-process.js';

/** Takes the next n messages of a subscription, failing after timeoutMs. */
async function take(sub: Subscription, n: number, timeoutMs = 20_000): Promise<Message[]> {
  const got: Message[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${got.length}/${n} messages`)), timeoutMs);
  });
  try {
    while (got.length < n) {
      const r = await Promise.race([sub.next(), timeout]);
      if (r.done) throw new Error(`subscription ended after ${got.length}/${n} messages`);
      got.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return got;
}

async function topicInfo(client: Client, topic: string): Promise<TopicInfo | undefined> {
  return (await client.query('topics')).topics.find((t) => t.topic === topic);
}

describe('client: publish and subscribe against a real hub', () => {
  let hub: HubProcess;
  let client: Client;
  before(async () => {
    hub = await startHub();
    client = await connect(hub.url, { name: 'pubsub-test' });
  });
  after(async () => {
    await client.close();
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('round-trips payload, key and timestamp', async () => {
    const sub = await client.subscribe('rt', 's', { from: 'earliest' });
    const before = Date.now();
    const a = await client.publish('rt', 'hello', { key: 'k1' });
    const b = await client.publish('rt', new Uint8Array([0, 1, 2, 255]));
    assert.deepEqual(a, { seq: 1, duplicate: false });
    assert.deepEqual(b, { seq: 2, duplicate: false });
    const [m1, m2] = await take(sub, 2);
    assert.equal(m1!.topic, 'rt');
    assert.equal(m1!.seq, 1);
    assert.equal(m1!.payload.toString(), 'hello');
    assert.equal(m1!.key?.toString(), 'k1');
    assert.ok(m1!.timestamp >= before - 1000 && m1!.timestamp <= Date.now() + 1000, `timestamp ${m1!.timestamp} is the publish time`);
    assert.equal(m2!.key, undefined, 'absent key stays absent');
    assert.deepEqual([...m2!.payload], [0, 1, 2, 255]);
    await sub.close();
  });

  it('gives 10,000 pipelined publishes consecutive seqs in order, and delivers them in order', async () => {
    const n = 10_000;
    const sub = await client.subscribe('pipe', 's', { from: 'earliest', credit: 500 });
    const results = await Promise.all(Array.from({ length: n }, (_, i) => client.publish('pipe', `m${i}`)));
    // Each stored once, in order. On a starved machine the client may find the hub silent past its
    // keepalive and resend what was unanswered: those come back as duplicates, with their original's seq [P-4.4].
    assert.deepEqual(results.map((r) => r.seq), Array.from({ length: n }, (_, i) => i + 1));
    const got = await take(sub, n);
    assert.deepEqual(got.map((m) => m.seq), Array.from({ length: n }, (_, i) => i + 1));
    assert.ok(got.every((m, i) => m.payload.toString() === `m${i}`));
    got[n - 1]!.ack();
    await sub.close();
  });

  it('starts a new subscription at earliest, latest or a given seq [P-5.2]', async () => {
    // Without a subscription the topic keeps only what retention keeps [P-6.3].
    await client.configureTopic('start', { retainCount: 100 });
    for (let i = 1; i <= 5; i++) await client.publish('start', `m${i}`);
    const earliest = await client.subscribe('start', 'e', { from: 'earliest' });
    const latest = await client.subscribe('start', 'l', { from: 'latest' });
    const fromSeq = await client.subscribe('start', 'q', { from: 4 });
    await client.publish('start', 'm6');
    assert.deepEqual((await take(earliest, 6)).map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual((await take(latest, 1)).map((m) => m.seq), [6]);
    assert.deepEqual((await take(fromSeq, 3)).map((m) => m.seq), [4, 5, 6]);
    await Promise.all([earliest.close(), latest.close(), fromSeq.close()]);
  });

  it('resumes after the cumulative ack when a new client attaches the same subscription', async () => {
    const first = await client.subscribe('resume', 'r', { from: 'earliest' });
    for (let i = 1; i <= 10; i++) await client.publish('resume', `m${i}`);
    const got = await take(first, 10);
    got[6]!.ack(); // seq 7 acknowledges 1..7 [P-5.4]
    await client.close();
    client = await connect(hub.url);
    const second = await client.subscribe('resume', 'r', { from: 'earliest' });
    assert.deepEqual((await take(second, 3)).map((m) => m.seq), [8, 9, 10]);
    await second.close();
  });

  it('detaches on sub.close() and on break, keeping the durable subscription', async () => {
    const sub = await client.subscribe('detach', 'd', { from: 'earliest' });
    await client.publish('detach', 'one');
    for await (const msg of sub) {
      msg.ack();
      break;
    }
    assert.equal((await sub.next()).done, true, 'the iterator is done after break');
    await eventually(async () => {
      const s = (await topicInfo(client, 'detach'))?.subscriptions.find((x) => x.name === 'd');
      assert.deepEqual(s && { ackedSeq: s.ackedSeq, attached: s.attached }, { ackedSeq: 1, attached: false });
    });
    await client.publish('detach', 'two');
    const again = await client.subscribe('detach', 'd');
    assert.deepEqual((await take(again, 1)).map((m) => m.payload.toString()), ['two']);
    await again.close();
  });

  it('refuses an ack beyond what was delivered', async () => {
    const sub = await client.subscribe('badack', 's', { from: 'earliest' });
    await client.publish('badack', 'x');
    await take(sub, 1);
    assert.throws(() => sub.ack(2), (err) => isCorralError(err, 'INVALID_ARGUMENT'));
    await sub.close();
  });

  it('holds at most `credit` messages for a slow consumer [P-5.3]', async () => {
    const credit = 10;
    const total = 200;
    const sub = await client.subscribe('slow', 's', { from: 'earliest', credit });
    await Promise.all(Array.from({ length: total }, (_, i) => client.publish('slow', `m${i}`)));
    await eventually(() => assert.equal(sub.buffered, credit));
    // Every publish is committed; a round trip on the connection brings whatever the hub sent before it.
    await client.query('stats');
    assert.equal(sub.buffered, credit, 'no more than the credit arrives while nothing is consumed');
    let maxBuffered = 0;
    const seqs: number[] = [];
    for (let i = 0; i < total; i++) {
      const [m] = await take(sub, 1);
      seqs.push(m!.seq);
      m!.ack();
      maxBuffered = Math.max(maxBuffered, sub.buffered);
      // A slow consumer: let the hub answer a round trip (and refill the credit) now and then.
      if (i % 20 === 0) await client.query('stats');
    }
    assert.ok(maxBuffered <= credit, `buffered up to ${maxBuffered} messages with credit ${credit}`);
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1));
    await sub.close();
  });

  it('ends the iterator with SUBSCRIPTION_DELETED on unsubscribe, and with SUBSCRIPTION_TAKEN_OVER on take-over', async () => {
    const deleted = await client.subscribe('end', 'del');
    const ended = assert.rejects(deleted.next(), (err) => isCorralError(err, 'SUBSCRIPTION_DELETED'));
    await client.unsubscribe('end', 'del');
    await ended;
    assert.equal((await deleted.next()).done, true);
    await assert.rejects(client.unsubscribe('end', 'del'), (err) => isCorralError(err, 'UNKNOWN_SUBSCRIPTION'));

    const other = await connect(hub.url);
    try {
      const old = await client.subscribe('end', 'shared');
      const newer = await other.subscribe('end', 'shared');
      await assert.rejects(old.next(), (err) => isCorralError(err, 'SUBSCRIPTION_TAKEN_OVER'));
      await client.publish('end', 'after take-over');
      assert.deepEqual((await take(newer, 1)).map((m) => m.payload.toString()), ['after take-over']);
    } finally {
      await other.close();
    }
  });

  it('configures retention and answers queries', async () => {
    await client.publish('conf', 'x');
    await client.configureTopic('conf', { retainCount: 5, retainMs: 60_000 });
    const info = await topicInfo(client, 'conf');
    assert.deepEqual(info && { retainCount: info.retainCount, retainMs: info.retainMs, lastSeq: info.lastSeq }, { retainCount: 5, retainMs: 60_000, lastSeq: 1 });
    const stats = await client.query('stats');
    assert.equal(typeof stats.hubId, 'string');
    assert.ok(stats.publishes >= 1);
    await assert.rejects(client.query('no-such-kind'), (err) => isCorralError(err, 'UNKNOWN_QUERY'));
  });

  it('refuses bad names and oversize payloads before sending them', async () => {
    await assert.rejects(client.publish('bad topic', 'x'), (err) => isCorralError(err, 'INVALID_TOPIC'));
    await assert.rejects(client.subscribe('t', 'bad|name'), (err) => isCorralError(err, 'INVALID_SUBSCRIPTION'));
    await assert.rejects(client.publish('big', Buffer.alloc(1024 * 1024 + 1)), (err) => isCorralError(err, 'PAYLOAD_TOO_LARGE'));
    await assert.rejects(client.subscribe('t', 's', { credit: 0 }), (err) => isCorralError(err, 'INVALID_ARGUMENT'));
    assert.deepEqual(await client.publish('big', Buffer.alloc(1024 * 1024)), { seq: 1, duplicate: false });
  });

  it('rejects what is pending with CLIENT_CLOSED on close(), and ends iterators', async () => {
    const c = await connect(hub.url);
    const sub = await c.subscribe('closing', 's');
    const next = sub.next();
    const settled = Promise.allSettled(Array.from({ length: 1000 }, (_, i) => c.publish('closing', `m${i}`)));
    await c.close();
    const outcomes = await settled;
    assert.ok(outcomes.every((o) => o.status === 'rejected' && isCorralError(o.reason, 'CLIENT_CLOSED')));
    assert.equal((await next).done, true);
    await assert.rejects(c.publish('closing', 'late'), (err) => isCorralError(err, 'CLIENT_CLOSED'));
    // Publishes rejected by close() were never sent: once the hub has seen the connection close (after
    // every frame it carried), the next message on the topic is its first.
    await eventually(async () => assert.equal((await client.query('stats')).connections, 1));
    assert.deepEqual(await client.publish('closing', 'first'), { seq: 1, duplicate: false });
  });
});

describe('client: handshake', () => {
  let hub: HubProcess;
  before(async () => { hub = await startHub({ args: ['--token', 's3cret'] }); });
  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('refuses a wrong or missing token with UNAUTHORIZED [P-1.2]', async () => {
    await assert.rejects(connect(hub.url, { token: 'wrong' }), (err) => isCorralError(err, 'UNAUTHORIZED'));
    await assert.rejects(connect(hub.url), (err) => isCorralError(err, 'UNAUTHORIZED'));
    const ok = await connect(hub.url, { token: 's3cret' });
    assert.equal((await ok.publish('auth', 'x')).seq, 1);
    await ok.close();
  });

  it('tries the addresses in order and uses the first that answers [P-3.2]', async () => {
    const c = await connect(`corral://127.0.0.1:1,127.0.0.1:${hub.port}`, { token: 's3cret' });
    assert.equal((await c.publish('auth', 'y')).seq, 2);
    await c.close();
  });

  it('fails with CONNECTION_CLOSED when no hub answers, and with INVALID_URL for a bad address', async () => {
    await assert.rejects(connect('corral://127.0.0.1:1'), (err) => isCorralError(err, 'CONNECTION_CLOSED'));
    await assert.rejects(connect('corral://host:99999'), (err) => isCorralError(err, 'INVALID_URL'));
  });
});
