import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCorralError } from '../../src/protocol/corral-error.js';
import { gateResource } from '../../src/services/gates/gate-frames.js';
import { Gate } from '../../src/services/gates/gate.js';
import type { GateWaiter } from '../../src/services/gates/gate-waiter.js';
import { eventually } from '../support/eventually.js';
import { killAfterReport } from '../support/kill-after-report.js';
import { clusterFixture, ownerOf, startCluster, urlOf } from '../support/service-test-kit.js';
import type { HubProcess } from '../support/hub-process.js';

/**
 * An audit kept by the test itself, apart from the hub: a holder counts from
 * the moment its acquire resolved until just before its release was sent —
 * inside the interval the gate counts it — so more than `limit` at once here
 * means more at the gate.
 */
class Audit {
  holding = 0;
  most = 0;
  readonly admissions = new Map<string, number>();
  readonly order: Array<{ admission: number; seq: number; cls: number }> = [];

  granted(ticket: string, admission: number, cls: number): void {
    assert.ok(!this.admissions.has(ticket), `ticket ${ticket} admitted twice`);
    this.admissions.set(ticket, admission);
    this.order.push({ admission, seq: Number(ticket.split('.')[0]), cls });
    this.most = Math.max(this.most, ++this.holding);
  }

  released(): void {
    this.holding--;
  }

  /** Admission numbers unique; sorted by them, seqs (arrival order) rise within each class. */
  assertOrder(): void {
    const byAdmission = [...this.order].sort((a, b) => a.admission - b.admission);
    assert.equal(new Set(byAdmission.map((x) => x.admission)).size, byAdmission.length, 'no admission number twice');
    const last = new Map<number, number>();
    let violations = 0;
    for (const x of byAdmission) {
      if ((last.get(x.cls) ?? 0) > x.seq) violations++;
      last.set(x.cls, x.seq);
    }
    assert.equal(violations, 0, 'admission order equals arrival order within each class');
  }
}

/** One visitor: waits, holds briefly, releases; a release refused because a failover already applied it is not an error. */
async function visit(gate: Gate, audit: Audit, cls: number): Promise<void> {
  const slot = await gate.acquire({ priority: cls });
  audit.granted(slot.ticket, slot.admission, cls);
  await new Promise((r) => setImmediate(r));
  audit.released();
  await slot.release().catch((err: unknown) => {
    if (!isCorralError(err, 'SLOT_NOT_HELD')) throw err;
  });
}

describe('gates on a 3-hub cluster', () => {
  const fx = clusterFixture();

  it('1,000 acquirers over 3 hubs, limit 50: never more than 50 holders, FIFO within each class', async () => {
    const hubs = await startCluster(fx);
    const admin = Gate.open(await fx.connect(hubs), 'sale');
    await admin.create({ limit: 50, classes: 2, graceMs: 5000 });
    const gates: Gate[] = [];
    for (let i = 0; i < 24; i++) gates.push(Gate.open(await fx.connect([hubs[i % 3]!]), 'sale'));
    const audit = new Audit();
    await Promise.all(Array.from({ length: 1000 }, (_, i) => visit(gates[i % gates.length]!, audit, i % 7 === 0 ? 0 : 1)));
    assert.equal(audit.admissions.size, 1000);
    assert.ok(audit.most <= 50, `at most 50 holders at once, saw ${audit.most}`);
    assert.ok(audit.most >= 2, 'the gate let several in at once');
    audit.assertOrder();
    const s = await admin.status();
    assert.deepEqual({ holders: s.holders, waiting: s.waiting, admissions: s.admissions }, { holders: 0, waiting: 0, admissions: 1000 });
    for (const g of [admin, ...gates]) g.close();
  });

  it('holders SIGKILLed stop renewing: the next waiters are admitted after the lease', async () => {
    const hubs = await startCluster(fx);
    const admin = Gate.open(await fx.connect(hubs), 'killed-holders');
    await admin.create({ limit: 3, leaseMs: 1000, graceMs: 5000 });
    const dist = new URL('../../src/', import.meta.url).href;
    await killAfterReport(`
      import { connect } from '${dist}client/index.js';
      import { Gate } from '${dist}services/gates/gate.js';
      const gate = Gate.open(await connect('${urlOf(hubs)}'), 'killed-holders');
      for (let i = 0; i < 3; i++) await gate.acquire();
      console.log('holding');
      await new Promise(() => {});
    `, 'holding');
    const waiters: GateWaiter[] = [];
    for (let i = 0; i < 4; i++) waiters.push(await admin.enqueue());
    assert.deepEqual(waiters.map((w) => w.position), [1, 2, 3, 4]);
    const slots = await Promise.all(waiters.slice(0, 3).map((w) => w.admitted));
    assert.deepEqual(slots.map((s) => s.admission), [4, 5, 6]);
    await eventually(() => assert.equal(waiters[3]!.position, 1));
    for (const s of slots) await s.release();
    await waiters[3]!.admitted;
    admin.close();
  });

  it('owner SIGKILLed mid-sale: holders and queue survive, no slot granted twice, order kept', async () => {
    const hubs = await startCluster(fx);
    const admin = Gate.open(await fx.connect(hubs), 'failover');
    await admin.create({ limit: 5, leaseMs: 3000, graceMs: 3000 });
    const { hub: owner } = await ownerOf(fx.stores.metadata, hubs, gateResource('failover'));
    const others = hubs.filter((h: HubProcess) => h !== owner);
    // Visitors reach the gate through the hubs that survive; the owner is only where requests are redirected to.
    const gates: Gate[] = [];
    for (let i = 0; i < 6; i++) gates.push(Gate.open(await fx.connect([others[i % 2]!]), 'failover'));
    const audit = new Audit();
    const held: Array<() => void> = [];
    // Holders wait to release until told, so the owner dies with slots held and a queue behind them.
    const visitors = Array.from({ length: 60 }, async (_, i) => {
      const slot = await gates[i % gates.length]!.acquire();
      audit.granted(slot.ticket, slot.admission, 0);
      if (slot.admission <= 5) await new Promise<void>((r) => held.push(r));
      audit.released();
      await slot.release().catch((err: unknown) => {
        if (!isCorralError(err, 'SLOT_NOT_HELD')) throw err;
      });
    });
    await eventually(async () => assert.equal((await admin.status()).waiting, 55));
    await owner.kill('SIGKILL');
    fx.hubs.splice(fx.hubs.indexOf(owner), 1);
    const after = await admin.status();
    assert.deepEqual({ holders: after.holders, waiting: after.waiting, admissions: after.admissions }, { holders: 5, waiting: 55, admissions: 5 });
    for (const r of held) r();
    await Promise.all(visitors);
    assert.equal(audit.admissions.size, 60);
    assert.ok(audit.most <= 5, `at most 5 holders at once, saw ${audit.most}`);
    audit.assertOrder();
    assert.equal((await admin.status()).admissions, 60);
    for (const g of [admin, ...gates]) g.close();
  });
});
