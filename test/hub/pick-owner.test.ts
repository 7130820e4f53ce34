import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickOwner } from '../../src/hub/cluster-ownership.js';
import { loadScore, type HubLoad, type HubRecord } from '../../src/hub/hub-record.js';
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
    placements.record(to.hubId, loadScore(to.load));
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
    // A shared machine at load 10: every hub's timers run hundreds of ms late, some more than others; each hub is mostly idle.
    const hubs = [hub('a', { lagMs: 750, busy: 0.3, topics: 1 }), hub('b', { lagMs: 80, busy: 0.05 }), hub('c', { lagMs: 400, busy: 0.45, topics: 1 })];
    const perHub = burst(hubs, 60, new RecentPlacements(60_000));
    for (const [id, n] of perHub) assert.ok(n >= 15, `hub ${id} got ${n}: ${[...perHub.values()].join(', ')}`);
  });

  it('still avoids a hub whose event loop is saturated', () => {
    const hubs = [hub('a', { lagMs: 2000, busy: 1 }), hub('b', { busy: 0.2 }), hub('c', { busy: 0.4 })];
    const perHub = burst(hubs, 30, new RecentPlacements(60_000));
    assert.equal(perHub.get('a'), 0, `${[...perHub.values()].join(', ')}`);
  });

  it('counts placements until the target\'s own report shows them, never twice', () => {
    const placements = new RecentPlacements(1000, () => 0);
    placements.record('a', 4);
    placements.record('a', 4);
    assert.equal(placements.effective('a', 4), 6, 'the report does not show them yet');
    assert.equal(placements.effective('a', 5), 6, 'the report shows one of them');
    assert.equal(placements.effective('a', 7), 7, 'the report shows them and more');
    assert.equal(placements.effective('b', 3), 3, 'nothing placed on b');
  });

  it('forgets placements a window after the last one', () => {
    let now = 0;
    const placements = new RecentPlacements(1000, () => now);
    placements.record('a', 0);
    now = 900;
    placements.record('a', 0);
    now = 1800;
    assert.equal(placements.effective('a', 0), 2, 'the burst goes on');
    now = 2000;
    assert.equal(placements.effective('a', 0), 0);
  });

  it('spreads a burst whose topics the new hub already reports', () => {
    // The hubs placing on a new hub see its report grow with what they placed: still about a third each.
    const hubs = [hub('a', { topics: 10 }), hub('b', { topics: 10 }), hub('j')];
    const placements = new RecentPlacements(60_000);
    const perHub = new Map(hubs.map((h) => [h.hubId, 0]));
    for (let i = 0; i < 40; i++) {
      const to = pickOwner(`late.${i}`, hubs, placements)!;
      placements.record(to.hubId, loadScore(to.load));
      perHub.set(to.hubId, perHub.get(to.hubId)! + 1);
      // Every placement shows in the target's next report.
      to.load = { ...to.load, topics: to.load.topics + 1 };
    }
    const got = [...perHub.values()].join(', ');
    assert.ok(perHub.get('j')! >= 20, `the new hub took its 10-topic gap and its share: ${got}`);
    assert.ok(perHub.get('a')! >= 5 && perHub.get('b')! >= 5, `then the burst spread: ${got}`);
  });

  it('picks nothing from no hubs', () => {
    assert.equal(pickOwner('x', []), undefined);
  });
});
