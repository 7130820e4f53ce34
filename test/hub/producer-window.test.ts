import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProducerWindow } from '../../src/hub/producer-window.js';
import { TopicProducers } from '../../src/hub/topic-producers.js';

describe('ProducerWindow: recent producerSeq → seq runs [P-4.4]', () => {
  it('answers every producer seq of its runs, knows the gaps between them, and sends older ones to the store', () => {
    const w = new ProducerWindow(1, 10, 0);
    w.add(2, 11);
    w.add(3, 12);
    w.add(5, 20); // producer seq 4 went to another topic; seqs 13-19 to other producers
    w.add(6, 21);
    assert.equal(w.latestProducerSeq, 6);
    assert.equal(w.latestSeq, 21);
    assert.deepEqual([1, 2, 3, 5, 6].map((p) => w.find(p)), [10, 11, 12, 20, 21].map((seq) => ({ kind: 'found', seq })));
    assert.deepEqual(w.find(4), { kind: 'absent' });
    assert.deepEqual(w.find(0), { kind: 'older', belowSeq: 10 });
  });

  it('keeps 32 runs as publishes come in; the records of the dropped ones are looked up below the oldest kept', () => {
    const w = new ProducerWindow(1, 1, 0);
    for (let p = 2; p <= 40; p++) w.add(p, 2 * p - 1); // every other seq: one run per publish
    assert.equal(w.oldestKnownSeq, 2 * 9 - 1);
    assert.deepEqual(w.find(9), { kind: 'found', seq: 17 });
    assert.deepEqual(w.find(8), { kind: 'older', belowSeq: 17 });
  });

  it('is extended backwards by the records a store lookup found, and ignores a lookup the window moved past', () => {
    const w = new ProducerWindow(10, 100, 0);
    w.extendBack([{ seq: 90, producerSeq: 7 }, { seq: 91, producerSeq: 8 }, { seq: 95, producerSeq: 9 }], 80, 99);
    assert.equal(w.oldestKnownSeq, 80);
    assert.deepEqual([7, 8, 9, 10].map((p) => w.find(p)), [90, 91, 95, 100].map((seq) => ({ kind: 'found', seq })));
    assert.deepEqual(w.find(6), { kind: 'older', belowSeq: 80 });
    w.extendBack([{ seq: 50, producerSeq: 1 }], 40, 60); // does not meet seq 80: not trusted
    assert.deepEqual(w.find(1), { kind: 'older', belowSeq: 80 });
  });
});

describe('TopicProducers: bounded by count and idle time [P-4.5]', () => {
  const limits = { producerIdleMs: 1000, maxProducersPerTopic: 3 };

  it('forgets the least recently used past the cap, and the idle ones', () => {
    const t = new TopicProducers(limits, [], 0);
    t.record('a', 1, 1, 0);
    t.record('b', 1, 2, 100);
    t.record('a', 2, 3, 200); // a is used again: b is now the least recently used
    t.record('c', 1, 4, 300);
    t.record('d', 1, 5, 400);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((id) => t.get(id) !== undefined), [true, false, true, true]);
    assert.equal(t.forgotten, 1);
    assert.equal(t.expire(1250), 1); // a, last used at 200
    assert.deepEqual(['a', 'c', 'd'].map((id) => t.get(id) !== undefined), [false, true, true]);
    assert.equal(t.forgotten, 2);
  });

  it('loads at most the cap of the store\'s most recent producers, within the idle time, and counts what it left', () => {
    const stored = [
      { producerId: 'e', producerSeq: 1, seq: 9, lastUsedMs: 5000 },
      { producerId: 'd', producerSeq: 1, seq: 8, lastUsedMs: 3000 },
      { producerId: 'c', producerSeq: 1, seq: 7, lastUsedMs: 4500 },
      { producerId: 'b', producerSeq: 1, seq: 6, lastUsedMs: 4800 },
    ];
    const t = new TopicProducers(limits, stored, 5200);
    assert.equal(t.size, 3);
    assert.deepEqual(['e', 'd', 'c', 'b'].map((id) => t.get(id) !== undefined), [true, false, true, true]);
    assert.equal(t.forgotten, 1);
  });
});
