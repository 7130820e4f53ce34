import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeFrame } from '../../src/protocol/encode.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { DeliverFrame, ErrorFrame, Frame, PublishAckFrame, ResultFrame } from '../../src/protocol/frames.js';
import type { TopicsResult } from '../../src/protocol/query-results.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { removeDir, startHub } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isAck = (f: Frame): f is PublishAckFrame => f.type === FrameType.PUBLISH_ACK;
const isError = (f: Frame): f is ErrorFrame => f.type === FrameType.ERROR;
const payloadOf = (corr: number): string => `d${corr}`;

/**
 * Keeps the hub's side of the connection full of PUBLISH frames until it
 * closes, writing whenever the socket drains: whenever shutdown begins, the
 * hub still has publishes to read, and must refuse them.
 */
function flood(pub: RawConnection, topic: string): { sent: () => number } {
  let corr = 0;
  const fill = (): void => {
    // A bounded batch per turn: the kernel may take every write at once, and acks must still be read.
    for (let i = 0; i < 200 && !pub.closed; i++) {
      corr++;
      const frame = encodeFrame({ type: FrameType.PUBLISH, corr, topic, key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from(payloadOf(corr)) });
      if (!pub.socket.write(frame)) {
        pub.socket.once('drain', fill);
        return;
      }
    }
    if (!pub.closed) setImmediate(fill);
  };
  fill();
  return { sent: () => corr };
}

interface Backend {
  name: string;
  /** Extra `corral start` arguments; the same ones restart the hub on the same data. */
  args: () => string[];
  /**
   * Whether publishes read during shutdown are sure to exist. Over PostgreSQL
   * a commit waits on the network, so the hub reads (and refuses) publishes
   * while it drains. On SQLite a commit finishes within one event-loop turn:
   * the hub can say GOODBYE before reading again, and what it never read goes
   * unanswered, to be repeated by the client [P-1.6].
   */
  refusalsCertain: boolean;
}

let pg: PostgresServer | undefined;
const backends: Backend[] = [
  { name: 'standalone on SQLite', args: () => [], refusalsCertain: false },
  { name: 'one hub over PostgreSQL', args: () => ['--store', pg!.url], refusalsCertain: true },
];

before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

for (const backend of backends) describe(`graceful shutdown, ${backend.name}`, () => {
  it('acknowledges what it committed, refuses the rest with SHUTTING_DOWN, says GOODBYE, and keeps exactly the acknowledged messages', async () => {
    const hub = await startHub({ args: backend.args() });
    const sub = await RawConnection.hello(hub.port);
    sub.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'drain', subscription: 's', start: { kind: 'earliest' }, credit: 10 });
    await sub.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    const pub = await RawConnection.hello(hub.port);
    pub.keep = (f) => isAck(f) || isError(f) || f.type === FrameType.GOODBYE;
    const sender = flood(pub, 'drain');
    await pub.waitForCount(isAck, 500);

    const exit = new Promise<number | null>((resolve) => hub.child.once('exit', (code) => resolve(code)));
    hub.child.kill('SIGTERM');
    assert.equal(await exit, 0, 'clean exit');
    await pub.waitClosed();
    await sub.waitClosed();
    const kinds = new Map<string, number>();
    for (const f of pub.frames) { const k = isError(f) ? `error ${f.code}` : `type ${f.type}`; kinds.set(k, (kinds.get(k) ?? 0) + 1); }
    assert.ok(pub.frames.some((f) => f.type === FrameType.GOODBYE), `GOODBYE to the publisher before close; got ${JSON.stringify([...kinds])}`);
    assert.ok(sub.frames.some((f) => f.type === FrameType.GOODBYE), 'GOODBYE to the subscriber before close');

    const acked = pub.frames.filter(isAck);
    const errors = pub.frames.filter(isError);
    if (backend.refusalsCertain) assert.ok(errors.length > 0, `publishes kept arriving during shutdown (${sender.sent()} sent, ${acked.length} acknowledged), yet none was refused`);
    for (const e of errors) assert.equal(e.code, ERROR_CODES.SHUTTING_DOWN.wire, `publish ${e.corr} refused with code ${e.code}, not SHUTTING_DOWN`);
    // One connection's publishes are stored in the order sent, with no gap and none twice [P-4.2].
    assert.deepEqual(acked.map((a) => [a.corr, a.seq]), acked.map((_, i) => [i + 1, i + 1]), 'publishes 1..n acknowledged as seqs 1..n');
    // Refusal starts at shutdown and lasts until GOODBYE: the refused publishes
    // are the ones right after the last acknowledged one, with no gap.
    const lastAcked = acked[acked.length - 1]!.corr;
    assert.deepEqual(errors.map((e) => e.corr), Array.from({ length: errors.length }, (_, i) => lastAcked + 1 + i), 'refusals follow the acknowledged publishes without a gap');

    const again = await startHub({ dataDir: hub.dataDir, args: backend.args() });
    try {
      const c = await RawConnection.hello(again.port);
      c.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'drain', subscription: 's', start: { kind: 'earliest' }, credit: 1_000_000 });
      await c.waitFor((f) => f.type === FrameType.DELIVER && (f as DeliverFrame).seq === acked.length);
      // The log after restart holds exactly the acknowledged messages: nothing refused or unanswered was stored.
      c.send({ type: FrameType.QUERY, corr: 2, kind: 'topics', args: '{}' });
      const answer = await c.waitFor((f): f is ResultFrame => f.type === FrameType.RESULT && f.corr === 2);
      const topics = JSON.parse(answer.json) as TopicsResult;
      assert.equal(topics.topics.find((t) => t.topic === 'drain')?.lastSeq, acked.length, 'the log ends at the last acknowledged message');
      const delivered = c.frames.filter((f): f is DeliverFrame => f.type === FrameType.DELIVER).map((d) => ({ seq: d.seq, payload: d.payload.toString() }));
      assert.deepEqual(delivered, acked.map((a) => ({ seq: a.seq, payload: payloadOf(a.corr) })));
      c.close();
    } finally {
      await again.stop();
      removeDir(hub.dataDir);
    }
  });
});
