import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutboundBudget } from '../../src/hub/outbound-budget.js';
import { eventually } from '../support/eventually.js';

describe('OutboundBudget: bytes queued to all connections', () => {
  it('admits every delivery under the budget; past it, holds the connections at or above their share and admits the others', () => {
    const budget = new OutboundBudget<string>(1000, () => undefined);
    for (let i = 0; i < 4; i++) budget.opened();
    budget.add(900);
    assert.equal(budget.admits('stalled', 900), true, 'under the budget');
    budget.add(150);
    // 1,050 queued: each of the 4 connections' share is 250.
    assert.equal(budget.admits('stalled', 1000), false);
    assert.equal(budget.admits('reader', 50), true, 'a connection holding little is still served');
    assert.equal(budget.admits('other', 250), false);
    assert.equal(budget.heldConnections, 2);
    assert.equal(budget.queuedBytes, 1050);
  });

  it('releases the held connections once the total falls under the budget, and forgets one that closed', async () => {
    const released: string[] = [];
    const budget = new OutboundBudget<string>(1000, (c) => released.push(c));
    budget.opened();
    budget.opened();
    budget.opened();
    budget.add(1200);
    assert.equal(budget.admits('a', 600), false);
    assert.equal(budget.admits('b', 600), false);
    budget.closed('b');
    budget.add(-100);
    assert.deepEqual(released, [], 'still over the budget');
    budget.add(-200);
    await eventually(() => assert.deepEqual(released, ['a']));
    assert.equal(budget.heldConnections, 0);
  });
});
