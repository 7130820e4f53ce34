import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { FrameType } from '../../src/protocol/frame-type.js';
import { DEDUP_UNKNOWN_FEATURE, Duplicate, PROTOCOL_VERSION, type Frame, type PublishAckFrame, type WelcomeFrame } from '../../src/protocol/frames.js';
import type { TopicsResult } from '../../src/protocol/query-results.js';
import { eventually } from '../support/eventually.js';
import { removeDir, startHub, tempDir, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isAck = (f: Frame): f is PublishAckFrame => f.type === FrameType.PUBLISH_ACK;

/** A connection that asked for the explicit answer to a retry whose original is not known [P-4.4]. */
async function helloWithDedupUnknown(port: number): Promise<RawConnection> {
  const c = await RawConnection.open(port);
  c.send({ type: FrameType.HELLO, version: PROTOCOL_VERSION, token: '', client: 'raw-test', features: [DEDUP_UNKNOWN_FEATURE] });
  const welcome = await c.waitFor((f): f is WelcomeFrame => f.type === FrameType.WELCOME);
  assert.ok(welcome.features.includes(DEDUP_UNKNOWN_FEATURE));
  return c;
}

function publish(c: RawConnection, topic: string, corr: number, producerId: string, producerSeq: number): void {
  c.send({ type: FrameType.PUBLISH, corr, topic, key: undefined, producerId, producerSeq, payload: Buffer.from(`${producerId}:${producerSeq}`) });
}

/** The acks of corrs [from, from + n), by corr. */
async function acks(c: RawConnection, from: number, n: number): Promise<Map<number, PublishAckFrame>> {
  const got = await c.waitForCount((f) => isAck(f) && f.corr >= from && f.corr < from + n, n);
  return new Map((got as PublishAckFrame[]).map((a) => [a.corr, a]));
}

async function topicInfo(hub: HubProcess, topic: string): Promise<TopicsResult['topics'][number]> {
  const body = (await (await fetch(`${hub.httpUrl}/api/topics`)).json()) as TopicsResult;
  const t = body.topics.find((x) => x.topic === topic);
  assert.ok(t, `topic ${topic} listed`);
  return t;
}

/** Producer rows the store holds for a topic, read from the hub's SQLite file beside the running hub. */
function storedProducers(hub: HubProcess, topic: string): number {
  const db = new Database(join(hub.dataDir, 'corral.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM producers WHERE topic_id = (SELECT id FROM topics WHERE name = ?)').get(topic)!.n;
  } finally {
    db.close();
  }
}

describe('hub de-duplication window [P-4.4]', () => {
  it('keeps at most --max-producers-per-topic producers, in memory and in the store, least recently used forgotten first', async () => {
    const dataDir = tempDir();
    let hub = await startHub({ dataDir, args: ['--gc-interval', '100', '--max-producers-per-topic', '20'] });
    try {
      const c = await helloWithDedupUnknown(hub.port);
      for (let i = 0; i < 100; i++) publish(c, 'crowded', i + 1, `p${i}`, 1);
      const first = await acks(c, 1, 100);
      assert.ok([...first.values()].every((a) => a.duplicate === Duplicate.NO));
      assert.equal((await topicInfo(hub, 'crowded')).producers, 20);
      await eventually(() => assert.equal(storedProducers(hub, 'crowded'), 20));
      // The 20 most recent are remembered: a retry of one is answered with its original's seq.
      publish(c, 'crowded', 101, 'p99', 1);
      assert.deepEqual(pick(await acks(c, 101, 1), 101), [100, Duplicate.YES]);
      // One forgotten long ago is beyond the window: its retry is stored again (at-least-once).
      publish(c, 'crowded', 102, 'p0', 1);
      assert.deepEqual(pick(await acks(c, 102, 1), 102), [101, Duplicate.NO]);
      c.close();
      await hub.stop();

      // A lower cap holds from the load on: the store's extra rows are neither loaded nor kept.
      hub = await startHub({ dataDir, args: ['--gc-interval', '100', '--max-producers-per-topic', '5'] });
      const d = await helloWithDedupUnknown(hub.port);
      publish(d, 'crowded', 1, 'p99', 1);
      assert.deepEqual(pick(await acks(d, 1, 1), 1), [100, Duplicate.YES]);
      assert.equal((await topicInfo(hub, 'crowded')).producers, 5);
      await eventually(() => assert.equal(storedProducers(hub, 'crowded'), 5));
      d.close();
    } finally {
      await hub.stop();
      removeDir(dataDir);
    }
  });

  it('forgets a producer idle for longer than --producer-idle, in memory and in the store', async () => {
    const hub = await startHub({ args: ['--gc-interval', '100', '--producer-idle', '1s'] });
    try {
      const c = await helloWithDedupUnknown(hub.port);
      c.send({ type: FrameType.CONFIGURE_TOPIC, corr: 99, topic: 'idle', retainCount: 100, retainMs: 0 });
      await c.waitFor((f) => f.type === FrameType.OK);
      for (let n = 1; n <= 3; n++) publish(c, 'idle', n, 'sleepy', n);
      await acks(c, 1, 3);
      await eventually(() => assert.equal(storedProducers(hub, 'idle'), 1));
      await eventually(async () => {
        assert.equal((await topicInfo(hub, 'idle')).producers, 0);
        assert.equal(storedProducers(hub, 'idle'), 0);
      });
      // Outside the window: the retry is stored again, as Kafka does after producer.id.expiration.ms.
      publish(c, 'idle', 4, 'sleepy', 3);
      assert.deepEqual(pick(await acks(c, 4, 1), 4), [4, Duplicate.NO]);
      c.close();
    } finally {
      await hub.stop();
      removeDir(hub.dataDir);
    }
  });

  it('answers a retry whose original was trimmed explicitly: not stored again, original not known', async () => {
    const dataDir = tempDir();
    let hub = await startHub({ dataDir, args: ['--gc-interval', '100'] });
    try {
      const c = await helloWithDedupUnknown(hub.port);
      for (let n = 1; n <= 5; n++) publish(c, 'trimmed', n, 'p', n);
      await acks(c, 1, 5);
      // No subscription, no retention: everything is trimmed.
      await eventually(async () => assert.equal((await topicInfo(hub, 'trimmed')).stored, 0));
      // The window still names the latest original's seq, trimmed or not.
      publish(c, 'trimmed', 6, 'p', 5);
      assert.deepEqual(pick(await acks(c, 6, 1), 6), [5, Duplicate.YES]);
      c.close();
      await hub.stop();

      // After a restart only the latest is in memory; older originals are looked up and are gone.
      hub = await startHub({ dataDir, args: ['--gc-interval', '100'] });
      const d = await helloWithDedupUnknown(hub.port);
      publish(d, 'trimmed', 1, 'p', 2);
      assert.deepEqual(pick(await acks(d, 1, 1), 1), [0, Duplicate.ORIGINAL_UNKNOWN]);
      // A client that did not ask for the feature gets version 1's answer: a duplicate of seq 0.
      const old = await RawConnection.hello(hub.port);
      publish(old, 'trimmed', 1, 'p', 3);
      assert.deepEqual(pick(await acks(old, 1, 1), 1), [0, Duplicate.YES]);
      assert.equal((await topicInfo(hub, 'trimmed')).lastSeq, 5, 'nothing stored again');
      d.close();
      old.close();
    } finally {
      await hub.stop();
      removeDir(dataDir);
    }
  });

  it('answers recent and old retries with their original seqs, interleaved with another producer, and again after SIGKILL and a restart', async () => {
    const dataDir = tempDir();
    let hub = await startHub({ dataDir });
    const port = hub.port;
    try {
      const c = await helloWithDedupUnknown(port);
      // A subscription keeps every original. Alternating producers: every run is one message long,
      // so most of a producer's originals are older than its in-memory runs.
      c.send({ type: FrameType.SUBSCRIBE, corr: 9999, subId: 1, topic: 'mixed', subscription: 'keep', start: { kind: 'earliest' }, credit: 0 });
      await c.waitFor((f) => f.type === FrameType.SUBSCRIBED);
      const n = 300;
      for (let i = 1; i <= n; i++) {
        publish(c, 'mixed', 2 * i - 1, 'a', i);
        publish(c, 'mixed', 2 * i, 'b', i);
      }
      const stored = await acks(c, 1, 2 * n);
      const original = (producer: 'a' | 'b', producerSeq: number): number => stored.get(producer === 'a' ? 2 * producerSeq - 1 : 2 * producerSeq)!.seq;
      assert.equal(original('b', n), 2 * n);

      // Recent (in memory) and old (looked up) retries.
      const retries: Array<['a' | 'b', number]> = [['a', n], ['b', n - 1], ['a', 1], ['b', 2], ['a', 150]];
      retries.forEach(([p, s], i) => publish(c, 'mixed', 10_000 + i, p, s));
      const answered = await acks(c, 10_000, retries.length);
      assert.deepEqual(retries.map((_, i) => pick(answered, 10_000 + i)), retries.map(([p, s]) => [original(p, s), Duplicate.YES]));
      c.close();

      await hub.kill('SIGKILL');
      hub = await startHub({ dataDir, port });
      const d = await helloWithDedupUnknown(port);
      // The client's whole pipeline resent, oldest first, after the crash.
      for (let i = 1; i <= n; i++) {
        publish(d, 'mixed', 2 * i - 1, 'a', i);
        publish(d, 'mixed', 2 * i, 'b', i);
      }
      const resent = await acks(d, 1, 2 * n);
      for (let i = 1; i <= 2 * n; i++) assert.deepEqual(pick(resent, i), [stored.get(i)!.seq, Duplicate.YES], `corr ${i}`);
      assert.equal((await topicInfo(hub, 'mixed')).lastSeq, 2 * n, 'nothing stored twice');
      d.close();
    } finally {
      await hub.stop();
      removeDir(dataDir);
    }
  });
});

function pick(byCorr: Map<number, PublishAckFrame>, corr: number): [number, Duplicate] {
  const a = byCorr.get(corr);
  assert.ok(a, `ack of corr ${corr}`);
  return [a.seq, a.duplicate];
}
