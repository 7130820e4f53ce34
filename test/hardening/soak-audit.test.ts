import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SoakAudit } from '../../bench/soak-audit.js';

describe('soak audit: what a subscription received against what was acknowledged', () => {
  it('counts acknowledged messages never delivered as lost, and redeliveries apart', () => {
    const a = new SoakAudit();
    for (const [n, seq] of [[0, 1], [1, 2], [1, 2], [3, 4]] as const) a.record(n, seq);
    assert.equal(a.lost(new Set([0, 1, 2, 3])), 1);
    assert.equal(a.duplicates, 1);
    assert.equal(a.delivered, 3);
    assert.equal(a.reordered(new Set([0, 1, 2, 3])), 0);
  });

  it('counts an acknowledged message first delivered after a later acknowledged one as reordered, naming both', () => {
    const a = new SoakAudit();
    for (const [n, seq] of [[0, 1], [2, 2], [1, 3], [3, 4]] as const) a.record(n, seq);
    assert.deepEqual(a.reorderings(new Set([0, 1, 2, 3])), [{ message: 1, seq: 3, after: 2, afterSeq: 2 }]);
    // Message 2's publish was not acknowledged (outcome unknown): its place does not count.
    assert.equal(a.reordered(new Set([0, 1, 3])), 0);
  });

  it('does not count a redelivery of earlier messages after a failover as reordering', () => {
    const a = new SoakAudit();
    for (const [n, seq] of [[0, 1], [1, 2], [2, 3], [1, 2], [2, 3], [3, 4]] as const) a.record(n, seq);
    assert.equal(a.reordered(new Set([0, 1, 2, 3])), 0);
    assert.equal(a.duplicates, 2);
  });
});
