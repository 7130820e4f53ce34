import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickOwner } from '../../src/hub/cluster-ownership.js';
import type { HubLoad, HubRecord } from '../../src/hub/hub-record.js';
import { RecentPlacements } from '../../src/hub/recent-placements.js';

function hub(hubId: string, load: Partial<HubLoad> = {}): HubRecord {
  return {
    hubId, address: `${hubId}:1`, httpAddress: `${hubId}:2`, pid: 1, startedAt: 0,
    load: { topics: 0, msgRate: 0, connections: 0, lagMs: 0, ...load },
  };
}

/** Places `n` new resources as one hub does during a burst, before any report refreshes. */
function burst(hubs: HubRecord[], n: number, placements: RecentPlacements): Map<string, number> {
  const perHub = new Map(hubs.map((h) => [h.hubId, 0]));
  for (let i = 0; i < n; i++) {
    const to = pickOwner(`burst.${i}`, hubs, placements)!;
    placements.record(to.hubId);
    perHub.set(to.hubId, perHub.get(to.hubId)! + 1);
  }
  return perHub;
}

describe('pickOwner', () => {
  it('fills the emptiest hub up to the others, then spreads a burst over all of them', () => {
    const hubs = [hub('a', { topics: 10 }), hub('b', { topics: 0 }), hub('c', { topics: 10 })];
    const perHub = burst(hubs, 60, new RecentPlacements(60_000));
    // 60 + 20 existing = 80 topics, about 27 each; b takes its 10-topic gap first.
    for (const [id, n] of perHub) assert.ok(n >= 10, `hub ${id} got ${n}: ${[...perHub.values()].join(', ')}`);
    assert.ok(perHub.get('b')! >= perHub.get('a')! + 5, `b is levelled up first: ${[...perHub.values()].join(', ')}`);
  });

  it('does not let a calm event loop win a whole burst', () => {
    // Delays of a shared machine, as seen in a 3-hub test: 17.7, 50.5 and 43.1 ms.
    const hubs = [hub('a', { lagMs: 50.5, topics: 1 }), hub('b', { lagMs: 17.7 }), hub('c', { lagMs: 43.1, topics: 1 })];
    const perHub = burst(hubs, 60, new RecentPlacements(60_000));
    for (const [id, n] of perHub) assert.ok(n >= 15, `hub ${id} got ${n}: ${[...perHub.values()].join(', ')}`);
  });

  it('still avoids a hub whose event loop is saturated', () => {
    const hubs = [hub('a', { lagMs: 2000 }), hub('b'), hub('c')];
    const perHub = burst(hubs, 30, new RecentPlacements(60_000));
    assert.equal(perHub.get('a'), 0, `${[...perHub.values()].join(', ')}`);
  });

  it('forgets placements once the reports had time to show them', () => {
    let now = 0;
    const placements = new RecentPlacements(1000, () => now);
    placements.record('a');
    placements.record('a');
    assert.equal(placements.count('a'), 2);
    now = 500;
    placements.record('a');
    now = 1200;
    assert.equal(placements.count('a'), 1);
    now = 1600;
    assert.equal(placements.count('a'), 0);
  });

  it('picks nothing from no hubs', () => {
    assert.equal(pickOwner('x', []), undefined);
  });
});
