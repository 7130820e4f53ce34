import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isCorralError } from '../../../src/protocol/corral-error.js';
import type { LogRecord, MessageLog, TopicBatch } from '../../../src/store/message-log.js';
import type { StoreHarness } from './store-harness.js';

const T0 = 1_700_000_000_000;
const NO_LIMIT = { maxRecords: 1_000_000, maxBytes: 1 << 30 };

/** Records fromSeq..fromSeq+count-1 with distinct payloads and a timestamp per seq. */
function records(fromSeq: number, count: number, payloadBytes = 8): LogRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = fromSeq + i;
    return { seq, timestamp: T0 + seq, key: undefined, payload: Buffer.alloc(payloadBytes, seq % 251), producerId: undefined, producerSeq: 0 };
  });
}

function batch(topic: string, epoch: number, recs: LogRecord[]): TopicBatch {
  return { topic, epoch, records: recs };
}

/** A caller bug (seq gap, unclaimed topic) must reject, and never as a retryable store failure. */
async function assertCallerBug(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof Error);
    if (isCorralError(err)) assert.equal(err.code, 'INTERNAL');
    return true;
  });
}

/**
 * The behaviour every MessageLog backend must show (see message-log.ts).
 * Call it at the top level of a test file; `open` must give an empty store.
 */
export function runMessageLogConformance(backend: string, open: () => Promise<StoreHarness<MessageLog>>): void {
  describe(`MessageLog conformance: ${backend}`, () => {
    let h: StoreHarness<MessageLog>;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.destroy();
    });

    async function seqs(topic: string, fromSeq = 1): Promise<number[]> {
      return (await h.store.read(topic, fromSeq, NO_LIMIT)).map((r) => r.seq);
    }

    describe('claim and fencing', () => {
      it('knows no topic before the first claim', async () => {
        const log = h.store;
        assert.deepEqual(await log.topics(), []);
        assert.equal(await log.bounds('t'), undefined);
        assert.deepEqual(await log.read('t', 1, NO_LIMIT), []);
        assert.deepEqual(await log.producers('t', 10), []);
        assert.equal(await log.pruneProducers('t', { usedBefore: T0, keep: 0 }), 0);
        assert.deepEqual(await log.usage('t'), { records: 0, bytes: 0 });
        assert.deepEqual(await log.producerRecords('t', 'p', 1, 100), []);
        assert.equal(await log.lastSeqBefore('t', T0 * 2), 0);
        assert.equal(await log.trim('t', 10), 0);
      });

      it('creates the topic and raises its epoch; an equal epoch is accepted', async () => {
        const log = h.store;
        assert.deepEqual(await log.claim('t', 3), { topic: 't', firstSeq: 1, lastSeq: 0, epoch: 3 });
        assert.deepEqual(await log.claim('t', 3), { topic: 't', firstSeq: 1, lastSeq: 0, epoch: 3 });
        assert.deepEqual(await log.claim('t', 7), { topic: 't', firstSeq: 1, lastSeq: 0, epoch: 7 });
        assert.deepEqual(await log.bounds('t'), { topic: 't', firstSeq: 1, lastSeq: 0, epoch: 7 });
      });

      it('refuses a lower epoch with FENCED and keeps the higher one', async () => {
        const log = h.store;
        await log.claim('t', 5);
        await assert.rejects(log.claim('t', 4), (err: unknown) => isCorralError(err, 'FENCED'));
        assert.equal((await log.bounds('t'))?.epoch, 5);
      });

      it('refuses a batch of an older epoch and stores the other batches of the call', async () => {
        const log = h.store;
        await log.claim('old', 1);
        await log.claim('new', 1);
        await log.claim('old', 2);
        const res = await log.append([batch('old', 1, records(1, 3)), batch('new', 1, records(1, 2))]);
        assert.deepEqual(res, [false, true]);
        assert.deepEqual(await seqs('old'), []);
        assert.deepEqual(await log.bounds('old'), { topic: 'old', firstSeq: 1, lastSeq: 0, epoch: 2 });
        assert.deepEqual(await seqs('new'), [1, 2]);
        assert.deepEqual(await log.append([batch('old', 2, records(1, 1))]), [true]);
        assert.deepEqual(await seqs('old'), [1]);
      });

      it('keeps the epoch and records of a topic re-claimed with the same epoch', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, records(1, 4))]);
        assert.deepEqual(await log.claim('t', 1), { topic: 't', firstSeq: 1, lastSeq: 4, epoch: 1 });
        assert.deepEqual(await log.claim('t', 2), { topic: 't', firstSeq: 1, lastSeq: 4, epoch: 2 });
      });
    });

    describe('append', () => {
      it('stores every field exactly', async () => {
        const log = h.store;
        await log.claim('t', 1);
        const all256 = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const big = Buffer.alloc(1 << 20);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
        const recs: LogRecord[] = [
          { seq: 1, timestamp: T0, key: undefined, payload: Buffer.from('plain'), producerId: undefined, producerSeq: 0 },
          { seq: 2, timestamp: T0 + 1, key: Buffer.alloc(0), payload: Buffer.alloc(0), producerId: undefined, producerSeq: 0 },
          { seq: 3, timestamp: T0 + 2, key: Buffer.from([0, 255, 0]), payload: all256, producerId: 'producer-ä', producerSeq: 1 },
          { seq: 4, timestamp: 2 ** 52, key: Buffer.from('k'), payload: big, producerId: 'p', producerSeq: 2 ** 53 - 1 },
        ];
        assert.deepEqual(await log.append([batch('t', 1, recs)]), [true]);
        const back = await log.read('t', 1, NO_LIMIT);
        assert.deepStrictEqual(back, recs);
        assert.ok(back.every((r) => Buffer.isBuffer(r.payload)), 'payloads come back as Buffers');
        assert.deepEqual(await log.bounds('t'), { topic: 't', firstSeq: 1, lastSeq: 4, epoch: 1 });
      });

      it('appends many topics in one call, and a topic twice in order', async () => {
        const log = h.store;
        const topics = Array.from({ length: 40 }, (_, i) => `topic.${String(i).padStart(2, '0')}`);
        for (const t of topics) await log.claim(t, 1);
        const batches = topics.map((t) => batch(t, 1, records(1, 50)));
        batches.push(batch('topic.00', 1, records(51, 10)));
        assert.deepEqual(await log.append(batches), batches.map(() => true));
        for (const t of topics) assert.equal((await log.bounds(t))?.lastSeq, t === 'topic.00' ? 60 : 50);
        assert.deepEqual(await seqs('topic.00'), records(1, 60).map((r) => r.seq));
        assert.deepEqual(await log.append([]), []);
      });

      it('continues from lastSeq + 1 across calls', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, records(1, 3))]);
        await log.append([batch('t', 1, records(4, 2))]);
        assert.deepEqual(await seqs('t'), [1, 2, 3, 4, 5]);
      });

      it('throws on a first seq that is not lastSeq + 1 and stores nothing of the call', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.claim('u', 1);
        await log.append([batch('t', 1, records(1, 2))]);
        const gap = log.append([batch('u', 1, records(1, 2)), batch('t', 1, records(4, 1))]);
        await assertCallerBug(gap);
        const overlap = log.append([batch('u', 1, records(1, 2)), batch('t', 1, records(2, 2))]);
        await assertCallerBug(overlap);
        assert.deepEqual(await seqs('u'), []);
        assert.deepEqual(await seqs('t'), [1, 2]);
        assert.equal((await log.bounds('u'))?.lastSeq, 0);
      });

      it('throws on seqs that are not consecutive within a batch', async () => {
        const log = h.store;
        await log.claim('t', 1);
        const recs = [...records(1, 2), ...records(4, 1)];
        await assertCallerBug(log.append([batch('t', 1, recs)]));
        const repeated = [...records(1, 2), ...records(2, 1)];
        await assertCallerBug(log.append([batch('t', 1, repeated)]));
        assert.deepEqual(await seqs('t'), []);
        assert.equal((await log.bounds('t'))?.lastSeq, 0);
      });

      it('throws on an unclaimed topic and stores nothing of the call', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await assertCallerBug(log.append([batch('t', 1, records(1, 1)), batch('never-claimed', 1, records(1, 1))]));
        assert.deepEqual(await seqs('t'), []);
        assert.equal(await log.bounds('never-claimed'), undefined);
      });
    });

    describe('read', () => {
      it('honours fromSeq and maxRecords', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, records(1, 20))]);
        assert.deepEqual((await log.read('t', 5, { maxRecords: 3, maxBytes: 1 << 20 })).map((r) => r.seq), [5, 6, 7]);
        assert.deepEqual((await log.read('t', 19, { maxRecords: 10, maxBytes: 1 << 20 })).map((r) => r.seq), [19, 20]);
        assert.deepEqual(await log.read('t', 21, NO_LIMIT), []);
        assert.deepEqual((await log.read('t', 0, { maxRecords: 1, maxBytes: 1 << 20 })).map((r) => r.seq), [1]);
      });

      it('stops after the record that crosses maxBytes, returning at least one', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, records(1, 10, 40))]);
        // 40 + 40 < 100, the third crosses 100 and is the last one returned.
        assert.deepEqual((await log.read('t', 1, { maxRecords: 100, maxBytes: 100 })).map((r) => r.seq), [1, 2, 3]);
        assert.deepEqual((await log.read('t', 4, { maxRecords: 100, maxBytes: 1 })).map((r) => r.seq), [4]);
        assert.deepEqual((await log.read('t', 1, { maxRecords: 2, maxBytes: 1000 })).map((r) => r.seq), [1, 2]);
        assert.equal((await log.read('t', 1, { maxRecords: 100, maxBytes: 1000 })).length, 10);
      });

      it('counts zero-length payloads as records, not bytes', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, records(1, 5, 0))]);
        assert.equal((await log.read('t', 1, { maxRecords: 100, maxBytes: 1 })).length, 5);
      });
    });

    describe('trim', () => {
      it('deletes through a seq, moves firstSeq and keeps lastSeq', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, records(1, 10))]);
        assert.equal(await log.trim('t', 4), 4);
        assert.equal(await log.trim('t', 4), 0);
        assert.deepEqual(await log.bounds('t'), { topic: 't', firstSeq: 5, lastSeq: 10, epoch: 1 });
        assert.deepEqual(await seqs('t', 1), [5, 6, 7, 8, 9, 10]);
        assert.deepEqual(await log.usage('t'), { records: 6, bytes: 48 });
      });

      it('keeps lastSeq when everything is trimmed, and appends continue after it', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, records(1, 10))]);
        assert.equal(await log.trim('t', 1000), 10);
        assert.deepEqual(await log.bounds('t'), { topic: 't', firstSeq: 11, lastSeq: 10, epoch: 1 });
        assert.deepEqual(await log.read('t', 1, NO_LIMIT), []);
        await assertCallerBug(log.append([batch('t', 1, records(1, 1))]));
        assert.deepEqual(await log.append([batch('t', 1, records(11, 2))]), [true]);
        assert.deepEqual(await seqs('t'), [11, 12]);
        assert.deepEqual(await log.bounds('t'), { topic: 't', firstSeq: 11, lastSeq: 12, epoch: 1 });
      });

      it('trims one topic only', async () => {
        const log = h.store;
        await log.claim('a', 1);
        await log.claim('b', 1);
        await log.append([batch('a', 1, records(1, 3)), batch('b', 1, records(1, 3))]);
        await log.trim('a', 3);
        assert.deepEqual(await seqs('b'), [1, 2, 3]);
      });
    });

    describe('producers', () => {
      function produced(seq: number, producerId: string | undefined, producerSeq: number): LogRecord {
        return { seq, timestamp: T0 + seq, key: undefined, payload: Buffer.from(`m${seq}`), producerId, producerSeq };
      }

      async function producerStates(topic: string): Promise<Array<[string, number, number]>> {
        const states = await h.store.producers(topic, 1000);
        return states.map((s): [string, number, number] => [s.producerId, s.producerSeq, s.seq]).sort((x, y) => (x[0] < y[0] ? -1 : 1));
      }

      it('records the highest producerSeq of every producer with its seq', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, [produced(1, 'p1', 1), produced(2, 'p2', 10), produced(3, undefined, 0), produced(4, 'p1', 2)])]);
        assert.deepEqual(await producerStates('t'), [['p1', 2, 4], ['p2', 10, 2]]);
        await log.append([batch('t', 1, [produced(5, 'p2', 11), produced(6, 'p1', 3), produced(7, 'p1', 4)])]);
        assert.deepEqual(await producerStates('t'), [['p1', 4, 7], ['p2', 11, 5]]);
      });

      it('keeps the highest producerSeq when a lower one is stored later', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, [produced(1, 'p', 5), produced(2, 'p', 3)])]);
        await log.append([batch('t', 1, [produced(3, 'p', 4)])]);
        assert.deepEqual(await producerStates('t'), [['p', 5, 1]]);
      });

      it('updates producer state only with the records it stores', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, [produced(1, 'p', 1)])]);
        await log.claim('t', 2);
        assert.deepEqual(await log.append([batch('t', 1, [produced(2, 'p', 2)])]), [false]);
        await assertCallerBug(log.append([batch('t', 2, [produced(2, 'p', 3)]), batch('t', 2, [produced(9, 'q', 1)])]));
        assert.deepEqual(await producerStates('t'), [['p', 1, 1]]);
      });

      it('keeps producer state per topic and after the records are trimmed', async () => {
        const log = h.store;
        await log.claim('a', 1);
        await log.claim('b', 1);
        await log.append([batch('a', 1, [produced(1, 'p', 7)]), batch('b', 1, [produced(1, 'p', 3), produced(2, 'p', 4)])]);
        await log.trim('a', 1);
        assert.deepEqual(await producerStates('a'), [['p', 7, 1]]);
        assert.deepEqual(await producerStates('b'), [['p', 4, 2]]);
      });

      it('lists the most recently used producers (highest seq) first, at most the limit, with the time of their newest record', async () => {
        const log = h.store;
        await log.claim('t', 1);
        // Clocks may disagree with the order of seqs (a new owner's may lag): seqs decide.
        const at = (seq: number, producerId: string, producerSeq: number, ts: number): LogRecord => ({ ...produced(seq, producerId, producerSeq), timestamp: ts });
        await log.append([batch('t', 1, [at(1, 'a', 1, T0 + 10), at(2, 'b', 1, T0 + 30), at(3, 'c', 1, T0 + 20), at(4, 'a', 2, T0 + 40)])]);
        await log.append([batch('t', 1, [at(5, 'd', 1, T0 + 30)])]);
        assert.deepEqual(await log.producers('t', 10), [
          { producerId: 'd', producerSeq: 1, seq: 5, lastUsedMs: T0 + 30 },
          { producerId: 'a', producerSeq: 2, seq: 4, lastUsedMs: T0 + 40 },
          { producerId: 'c', producerSeq: 1, seq: 3, lastUsedMs: T0 + 20 },
          { producerId: 'b', producerSeq: 1, seq: 2, lastUsedMs: T0 + 30 },
        ]);
        assert.deepEqual((await log.producers('t', 2)).map((p) => p.producerId), ['d', 'a']);
        // A retry (a producerSeq not above the stored one) does not count as a use.
        await log.append([batch('t', 1, [at(6, 'c', 1, T0 + 50)])]);
        assert.deepEqual((await log.producers('t', 10)).map((p) => [p.producerId, p.lastUsedMs]), [['d', T0 + 30], ['a', T0 + 40], ['c', T0 + 20], ['b', T0 + 30]]);
      });

      it('prunes expired producers and all but the most recently used', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.claim('u', 1);
        const recs = Array.from({ length: 50 }, (_, i) => ({ ...produced(i + 1, `p${String(i).padStart(2, '0')}`, 1), timestamp: T0 + i }));
        await log.append([batch('t', 1, recs), batch('u', 1, [produced(1, 'p00', 1)])]);
        assert.equal(await log.pruneProducers('t', { usedBefore: T0 + 10, keep: 1000 }), 10);
        assert.equal((await log.producers('t', 1000)).length, 40);
        assert.equal(await log.pruneProducers('t', { usedBefore: T0, keep: 25 }), 15);
        const left = await log.producers('t', 1000);
        assert.deepEqual(left.map((p) => p.producerId), Array.from({ length: 25 }, (_, i) => `p${49 - i}`));
        assert.equal(await log.pruneProducers('t', { usedBefore: T0, keep: 25 }), 0);
        // Other topics keep theirs; a pruned producer that publishes again is known again.
        assert.deepEqual(await producerStates('u'), [['p00', 1, 1]]);
        await log.append([batch('t', 1, [{ ...produced(51, 'p00', 2), timestamp: T0 + 100 }])]);
        assert.deepEqual((await log.producers('t', 1))[0], { producerId: 'p00', producerSeq: 2, seq: 51, lastUsedMs: T0 + 100 });
      });

      it('prunes by seq past the cap, whatever the timestamps say', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.append([batch('t', 1, ['c', 'a', 'd', 'b'].map((id, i) => ({ ...produced(i + 1, id, 1), timestamp: T0 + 10 - i })))]);
        assert.equal(await log.pruneProducers('t', { usedBefore: 0, keep: 2 }), 2);
        assert.deepEqual((await log.producers('t', 10)).map((p) => p.producerId), ['b', 'd']);
      });

      it('lists the records of one producer within a seq range', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.claim('u', 1);
        await log.append([
          batch('t', 1, [produced(1, 'p', 1), produced(2, 'q', 1), produced(3, 'p', 2), produced(4, undefined, 0), produced(5, 'p', 5)]),
          batch('u', 1, [produced(1, 'p', 3)]),
        ]);
        assert.deepEqual(await log.producerRecords('t', 'p', 1, 5), [{ seq: 1, producerSeq: 1 }, { seq: 3, producerSeq: 2 }, { seq: 5, producerSeq: 5 }]);
        assert.deepEqual(await log.producerRecords('t', 'p', 2, 4), [{ seq: 3, producerSeq: 2 }]);
        assert.deepEqual(await log.producerRecords('t', 'q', 1, 100), [{ seq: 2, producerSeq: 1 }]);
        assert.deepEqual(await log.producerRecords('t', 'r', 1, 100), []);
        assert.deepEqual(await log.producerRecords('u', 'p', 1, 1), [{ seq: 1, producerSeq: 3 }]);
        await log.trim('t', 1);
        assert.deepEqual(await log.producerRecords('t', 'p', 1, 3), [{ seq: 3, producerSeq: 2 }]);
      });
    });

    describe('statistics', () => {
      it('finds the highest seq stamped before a time, among stored records', async () => {
        const log = h.store;
        await log.claim('t', 1);
        // Timestamps need not grow with seq (a new owner's clock may lag the old one's).
        const stamps = [100, 200, 300, 250, 260, 400];
        const recs = stamps.map((ts, i) => ({ ...records(i + 1, 1)[0]!, timestamp: T0 + ts }));
        await log.append([batch('t', 1, recs)]);
        assert.equal(await log.lastSeqBefore('t', T0 + 100), 0);
        assert.equal(await log.lastSeqBefore('t', T0 + 101), 1);
        assert.equal(await log.lastSeqBefore('t', T0 + 255), 4);
        assert.equal(await log.lastSeqBefore('t', T0 + 301), 5);
        assert.equal(await log.lastSeqBefore('t', T0 + 1000), 6);
        await log.trim('t', 6);
        assert.equal(await log.lastSeqBefore('t', T0 + 1000), 0);
      });

      it('finds it across appends and partial trims', async () => {
        const log = h.store;
        await log.claim('t', 1);
        const stamped = (seq: number, ts: number): LogRecord => ({ ...records(seq, 1)[0]!, timestamp: T0 + ts });
        await log.append([batch('t', 1, [stamped(1, 100), stamped(2, 500)])]);
        await log.append([batch('t', 1, [stamped(3, 600), stamped(4, 200), stamped(5, 650)])]);
        await log.append([batch('t', 1, [stamped(6, 700)])]);
        await log.append([batch('t', 1, [stamped(7, 300)])]);
        assert.equal(await log.lastSeqBefore('t', T0 + 150), 1);
        assert.equal(await log.lastSeqBefore('t', T0 + 250), 4);
        assert.equal(await log.lastSeqBefore('t', T0 + 550), 7);
        assert.equal(await log.lastSeqBefore('t', T0 + 701), 7);
        await log.trim('t', 7);
        await log.append([batch('t', 1, [stamped(8, 800), stamped(9, 400), stamped(10, 900)])]);
        await log.trim('t', 9);
        assert.equal(await log.lastSeqBefore('t', T0 + 850), 0);
        assert.equal(await log.lastSeqBefore('t', T0 + 901), 10);
      });

      it('lists topics in name (code point) order with their bounds', async () => {
        const log = h.store;
        const names = ['b', 'a.x', 'B', 'a:y', 'a-z', 'A', 'a/b', 'a'];
        for (const n of names) await log.claim(n, 2);
        await log.append([batch('b', 2, records(1, 3))]);
        await log.trim('b', 1);
        const all = await log.topics();
        assert.deepEqual(all.map((t) => t.topic), [...names].sort());
        assert.deepEqual(all.find((t) => t.topic === 'b'), { topic: 'b', firstSeq: 2, lastSeq: 3, epoch: 2 });
        assert.deepEqual(all.find((t) => t.topic === 'a'), { topic: 'a', firstSeq: 1, lastSeq: 0, epoch: 2 });
      });

      it('reports stored records and payload bytes', async () => {
        const log = h.store;
        await log.claim('t', 1);
        await log.claim('u', 1);
        await log.append([batch('t', 1, [...records(1, 3, 10), ...records(4, 2, 0)]), batch('u', 1, records(1, 1, 99))]);
        assert.deepEqual(await log.usage('t'), { records: 5, bytes: 30 });
        assert.deepEqual(await log.usage('u'), { records: 1, bytes: 99 });
      });
    });

    it('keeps records, bounds, epochs and producers across a reopen', async () => {
      await h.store.claim('t', 4);
      await h.store.claim('u', 2);
      const recs = records(1, 5).map((r, i) => ({ ...r, key: i % 2 === 0 ? Buffer.from([i]) : undefined, producerId: 'p', producerSeq: i + 1 }));
      await h.store.append([batch('t', 4, recs), batch('u', 2, records(1, 1))]);
      await h.store.trim('t', 2);
      const topicsBefore = await h.store.topics();
      const log = await h.reopen();
      assert.deepEqual(await log.topics(), topicsBefore);
      assert.deepStrictEqual(await log.read('t', 1, NO_LIMIT), recs.slice(2));
      assert.deepEqual(await log.producers('t', 10), [{ producerId: 'p', producerSeq: 5, seq: 5, lastUsedMs: recs[4]!.timestamp }]);
      assert.deepEqual(await log.producerRecords('t', 'p', 4, 4), [{ seq: 4, producerSeq: 4 }]);
      await assert.rejects(log.claim('t', 3), (err: unknown) => isCorralError(err, 'FENCED'));
      assert.deepEqual(await log.append([batch('t', 4, records(6, 1))]), [true]);
    });
  });
}
