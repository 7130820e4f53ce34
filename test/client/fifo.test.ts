import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/client/backoff.js';
import { Fifo } from '../../src/client/fifo.js';

describe('Fifo', () => {
  it('keeps order across compaction and interleaved push/shift', () => {
    const q = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) q.push(next++);
      for (let i = 0; i < 250; i++) assert.equal(q.shift(), expected++);
    }
    assert.equal(q.length, next - expected);
    while (q.length > 0) assert.equal(q.shift(), expected++);
    assert.equal(expected, next);
    assert.equal(q.shift(), undefined);
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt within [ceiling/2, ceiling] and stops at maxDelayMs', () => {
    const opts = { initialDelayMs: 100, maxDelayMs: 5000 };
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(5000, 100 * 2 ** attempt);
      for (let i = 0; i < 20; i++) {
        const d = backoffDelay(attempt, opts);
        assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt}: ${d} outside [${ceiling / 2}, ${ceiling}]`);
      }
    }
  });
});
