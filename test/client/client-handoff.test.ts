import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect, isCorralError, tcpTransport, type Message, type Subscription } from '../../src/client/index.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame, SubscribeFrame } from '../../src/protocol/frames.js';
import { eventually } from '../support/eventually.js';
import { ack, deliver, error, isPublish, redirect, ScriptedHub } from './scripted-hub.js';

/**
 * [P-6.4] a topic handed from one hub to another: the scripted hubs play the
 * old owner (unsolicited REDIRECT with corr 0, attachments ended with a
 * retryable ERROR) and the new one; the application must not notice.
 */

/** Backoff long enough that a test waiting on it would time out: what follows a handoff must not wait for it. */
const NO_BACKOFF_EXPECTED = { initialDelayMs: 20_000, maxDelayMs: 20_000 };
const SHORT_BACKOFF = { initialDelayMs: 10, maxDelayMs: 20 };
/** A regression (a request sent to a silent hub, a backoff taken) fails the test rather than hanging the file. */
const TEST = { timeout: 15_000 };

function isType<T extends Frame['type']>(f: Frame, type: T): boolean {
  return !('service' in f) && f.type === type;
}

/**
 * QUERY answered with an empty RESULT. A scripted hub writes frames in
 * order, so once a query sent after an unsolicited frame is answered, the
 * client has handled that frame: the tests use it as a barrier.
 */
function answerQuery(f: Frame): Frame[] {
  return !('service' in f) && f.type === FrameType.QUERY ? [{ type: FrameType.RESULT, corr: f.corr, json: '{}' }] : [];
}

function subscribed(f: SubscribeFrame, ackedSeq: number, lastSeq: number): Frame {
  return { type: FrameType.SUBSCRIBED, corr: f.corr, subId: f.subId, ackedSeq, lastSeq };
}

/** The next message, failing instead of hanging when the iterator stalls or ends. */
async function next(sub: Subscription, timeoutMs = 5000): Promise<Message> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const r = await Promise.race([sub.next(), timeout]);
    if (r.done) throw new Error('the subscription ended');
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

describe('client: a topic handed over between hubs [P-6.4]', () => {
  const hubs: ScriptedHub[] = [];
  after(async () => { await Promise.all(hubs.map((h) => h.stop())); });

  it('(a) after an unsolicited REDIRECT, the next publish goes straight to the new owner', TEST, async () => {
    let oldSeq = 0;
    let newSeq = 100;
    const owner = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, ++newSeq)] : []));
    const old = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, ++oldSeq)] : answerQuery(f)));
    hubs.push(owner, old);
    const opened: string[] = [];
    const client = await connect(old.url, {
      reconnect: NO_BACKOFF_EXPECTED,
      transport: (address) => {
        opened.push(`${address.host}:${address.port}`);
        return tcpTransport(address);
      },
    });
    try {
      assert.equal((await client.publish('moving', 'a')).seq, 1);
      old.send(1, redirect(0, 'moving', owner, 2));
      await client.query('stats');
      assert.equal((await client.publish('moving', 'b')).seq, 101);
      assert.equal((await client.publish('stays', 'c')).seq, 2, 'other topics stay with the bootstrap hub');
      assert.deepEqual(old.publishes().map((p) => p.payload.toString()), ['a', 'c'], 'no lookup through the old owner');
      assert.deepEqual(owner.publishes().map((p) => p.payload.toString()), ['b']);
      assert.deepEqual(opened, [old.address, owner.address]);
    } finally {
      await client.close();
    }
  });

  it('(a) keeps the order of publishes in flight at the old owner when it hands the topic over [P-4.3]', TEST, async () => {
    let newSeq = 1;
    const owner = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, ++newSeq)] : []));
    const old = await ScriptedHub.start((f) => {
      if (!isPublish(f)) return answerQuery(f);
      // p1 is committed before the handoff; p2 was received but not stored, and is refused below.
      return f.payload.toString() === 'p1' ? [ack(f, 1)] : [];
    });
    hubs.push(owner, old);
    const client = await connect(old.url, { reconnect: NO_BACKOFF_EXPECTED });
    try {
      const p1 = client.publish('moving', 'p1');
      const p2 = client.publish('moving', 'p2');
      assert.equal((await p1).seq, 1);
      await eventually(() => assert.equal(old.publishes().length, 2));
      old.send(1, redirect(0, 'moving', owner, 2));
      await client.query('stats');
      const p3 = client.publish('moving', 'p3');
      // A round trip through the old hub lets the client act on p3; it must hold p3 until p2 is settled
      // (and the order stored at the owner below tells if it did not).
      await client.query('stats');
      assert.equal(owner.publishes().length, 0, 'p3 waits for p2, still in flight at the old owner');
      // What the hub does with a publish it held back when the topic left [P-6.4]: NOT_OWNER, nothing stored.
      old.send(1, error(old.publishes()[1]!.corr, 'NOT_OWNER'));
      assert.deepEqual([(await p2).seq, (await p3).seq], [2, 3]);
      assert.deepEqual(owner.publishes().map((p) => p.payload.toString()), ['p2', 'p3'], 'stored at the new owner in the order published');
      assert.deepEqual(old.publishes().map((p) => p.payload.toString()), ['p1', 'p2'], 'the refusal did not send p2 back to the old owner');
      assert.equal(owner.publishes()[0]!.producerSeq, old.publishes()[1]!.producerSeq, 'p2 resent with its producer sequence [P-4.4]');
    } finally {
      await client.close();
    }
  });

  it('(b) re-attaches at the new owner after NOT_OWNER: the iterator goes on, no duplicate, no gap, acks kept', TEST, async () => {
    const owner = await ScriptedHub.start(() => []); // answers the re-attach when the test says so
    const old = await ScriptedHub.start((f) => {
      if (isType(f, FrameType.SUBSCRIBE)) {
        const s = f as SubscribeFrame;
        return [subscribed(s, 0, 3), deliver(s.subId, 1), deliver(s.subId, 2), deliver(s.subId, 3)];
      }
      return answerQuery(f);
    });
    hubs.push(owner, old);
    const client = await connect(old.url, { reconnect: NO_BACKOFF_EXPECTED });
    try {
      const sub = await client.subscribe('orders', 'billing', { from: 'earliest', credit: 10 });
      const m1 = await next(sub);
      const m2 = await next(sub);
      m2.ack();
      await eventually(() => assert.deepEqual(old.acks().map((a) => a.seq), [2]));

      // The handoff: REDIRECT with corr 0, then the attachment ends with a retryable code.
      old.send(1, redirect(0, 'orders', owner, 7), error(0, 'NOT_OWNER', sub.subId));
      await eventually(() => assert.equal(owner.subscribes().length, 1));
      const again = owner.subscribes()[0]!;
      assert.deepEqual(
        { topic: again.topic, subscription: again.subscription, subId: again.subId, start: again.start },
        { topic: 'orders', subscription: 'billing', subId: sub.subId, start: { kind: 'seq', seq: 4 } },
        'the same subscription, starting after the last message received',
      );
      assert.equal(again.credit, 9, 'the window minus the message still buffered');

      // Taken and acknowledged between the handoff and the re-attach: the ack must reach the new owner.
      const m3 = await next(sub);
      m3.ack();
      // The old owner wrote its cursor at 2; the new one redelivers 3.
      owner.send(1, subscribed(again, 2, 5), deliver(again.subId, 3), deliver(again.subId, 4), deliver(again.subId, 5));
      const m4 = await next(sub);
      const m5 = await next(sub);
      assert.deepEqual([m1, m2, m3, m4, m5].map((m) => m.seq), [1, 2, 3, 4, 5], 'no duplicate, no gap');
      assert.equal(m4.payload.toString(), 'm4');
      await eventually(() => assert.deepEqual(owner.acks().map((a) => [a.subId, a.seq]), [[sub.subId, 3]]));
      m5.ack();
      await eventually(() => assert.deepEqual(owner.acks().map((a) => a.seq), [3, 5]));
      assert.equal(sub.buffered, 0);
      assert.equal(old.subscribes().length, 1, 'the re-attach did not go back to the old owner');
      assert.deepEqual(old.acks().map((a) => a.seq), [2]);
    } finally {
      await client.close();
    }
  });

  it('(b) re-attaches through the bootstrap hub when the owner is fenced without naming a successor', TEST, async () => {
    let bootstrapSubscribes = 0;
    const successor = await ScriptedHub.start((f) => {
      if (!isType(f, FrameType.SUBSCRIBE)) return [];
      const s = f as SubscribeFrame;
      return [subscribed(s, 1, 3), deliver(s.subId, 2), deliver(s.subId, 3)];
    });
    const fenced = await ScriptedHub.start((f) => {
      if (!isType(f, FrameType.SUBSCRIBE)) return [];
      const s = f as SubscribeFrame;
      return [subscribed(s, 0, 2), deliver(s.subId, 1), deliver(s.subId, 2)];
    });
    const bootstrap = await ScriptedHub.start((f) => {
      if (!isType(f, FrameType.SUBSCRIBE)) return answerQuery(f);
      const s = f as SubscribeFrame;
      return [++bootstrapSubscribes === 1 ? redirect(s.corr, s.topic, fenced, 1) : redirect(s.corr, s.topic, successor, 2)];
    });
    hubs.push(successor, fenced, bootstrap);
    const client = await connect(bootstrap.url, { reconnect: SHORT_BACKOFF });
    try {
      const sub = await client.subscribe('orders', 'billing', { from: 'earliest', credit: 10 });
      const m1 = await next(sub);
      m1.ack();
      await eventually(() => assert.deepEqual(fenced.acks().map((a) => a.seq), [1]));
      const m2 = await next(sub);
      fenced.send(1, error(0, 'FENCED', sub.subId));
      await eventually(() => assert.equal(bootstrapSubscribes, 2));
      m2.ack();
      const m3 = await next(sub);
      assert.deepEqual([m1.seq, m2.seq, m3.seq], [1, 2, 3]);
      assert.deepEqual(successor.subscribes().map((s) => s.start), [{ kind: 'seq', seq: 3 }]);
      assert.equal(fenced.subscribes().length, 1, 'the route to the fenced hub was dropped');
      await eventually(() => assert.deepEqual(successor.acks().map((a) => a.seq), [2]));
    } finally {
      await client.close();
    }
  });

  for (const code of ['SUBSCRIPTION_DELETED', 'SUBSCRIPTION_TAKEN_OVER'] as const) {
    it(`(c) a non-retryable ending (${code}) still ends the iterator with the error [P-5.9]`, TEST, async () => {
      const hub = await ScriptedHub.start((f) => {
        if (!isType(f, FrameType.SUBSCRIBE)) return answerQuery(f);
        const s = f as SubscribeFrame;
        return [subscribed(s, 0, 1), deliver(s.subId, 1)];
      });
      hubs.push(hub);
      const client = await connect(hub.url, { reconnect: SHORT_BACKOFF });
      try {
        const sub = await client.subscribe('orders', 'billing', { from: 'earliest' });
        assert.equal((await next(sub)).seq, 1);
        hub.send(1, error(0, code, sub.subId));
        await assert.rejects(sub.next(), (err) => isCorralError(err, code));
        assert.deepEqual(await sub.next(), { value: undefined, done: true });
        await client.query('stats');
        assert.equal(hub.subscribes().length, 1, 'not attached again');
      } finally {
        await client.close();
      }
    });
  }

  it('(d) an unsolicited REDIRECT with an older epoch does not override a newer route', TEST, async () => {
    const newer = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, 5)] : []));
    const stale = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, 4)] : []));
    const latest = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, 6)] : []));
    const bootstrap = await ScriptedHub.start((f) => (isPublish(f) ? [ack(f, 1)] : answerQuery(f)));
    hubs.push(newer, stale, latest, bootstrap);
    const client = await connect(bootstrap.url, { reconnect: NO_BACKOFF_EXPECTED });
    try {
      bootstrap.send(1, redirect(0, 'moving', newer, 5), redirect(0, 'moving', stale, 4), redirect(0, 'moving', stale, 5));
      await client.query('stats');
      assert.equal((await client.publish('moving', 'a')).seq, 5, 'epochs 4 and 5 do not override epoch 5');
      bootstrap.send(1, redirect(0, 'moving', latest, 6));
      await client.query('stats');
      assert.equal((await client.publish('moving', 'b')).seq, 6, 'a newer epoch does');
      assert.equal(stale.publishes().length, 0);

      // Late news of an older move, on the new owner's connection: ignored too.
      latest.send(1, redirect(0, 'moving', stale, 3));
      assert.equal((await client.publish('moving', 'b2')).seq, 6);
      assert.equal((await client.publish('moving', 'b3')).seq, 6);

      // The owner's connection drops: the topic goes back to the bootstrap hub, and its epoch is remembered.
      await latest.stop();
      assert.equal((await client.publish('moving', 'c')).seq, 1, 'back at the bootstrap hub');
      bootstrap.send(1, redirect(0, 'moving', stale, 6));
      await client.query('stats');
      assert.equal((await client.publish('moving', 'd')).seq, 1, 'after the route was dropped, epoch 6 is still not newer');
      assert.equal(stale.publishes().length, 0);
    } finally {
      await client.close();
    }
  });
});
