import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { decodeTicketReply, encodeAcquire, gateResource, GateFrame } from '../../src/services/gates/gate-frames.js';
import { Gate } from '../../src/services/gates/gate.js';
import type { GateSlot } from '../../src/services/gates/gate-slot.js';
import type { GateWaiter } from '../../src/services/gates/gate-waiter.js';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

let gates = 0;
const fresh = (): string => `g${++gates}`;

describe('gates on a standalone hub', () => {
  let hub: HubProcess;
  const clients: Client[] = [];
  const opened: Gate[] = [];
  const client = async (): Promise<Client> => {
    const c = await connect(hub.url, { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    clients.push(c);
    return c;
  };
  const gate = async (name: string, c?: Client): Promise<Gate> => {
    const g = Gate.open(c ?? await client(), name);
    opened.push(g);
    return g;
  };
  before(async () => { hub = await startHub(); });
  afterEach(async () => {
    for (const g of opened.splice(0)) g.close();
    for (const c of clients.splice(0)) await c.close();
  });
  after(async () => { await hub.stop(); });

  it('admits up to the limit, queues the rest with exact positions, and admits them in order as slots free', async () => {
    const name = fresh();
    const g = await gate(name);
    await g.create({ limit: 2 });
    const a = await g.acquire();
    const b = await g.acquire();
    const waiters: GateWaiter[] = [];
    for (let i = 0; i < 4; i++) waiters.push(await g.enqueue());
    assert.deepEqual(waiters.map((w) => w.position), [1, 2, 3, 4]);
    assert.deepEqual(waiters.map((w) => w.waiting), [1, 2, 3, 4]);
    const admittedOrder: number[] = [];
    for (const [i, w] of waiters.entries()) w.once('admitted', () => admittedOrder.push(i));
    await a.release();
    const first = await waiters[0]!.admitted;
    await eventually(() => assert.deepEqual(waiters.slice(1).map((w) => w.position), [1, 2, 3]));
    await b.release();
    await first.release();
    await waiters[1]!.admitted;
    await waiters[2]!.admitted;
    await eventually(() => assert.equal(waiters[3]!.position, 1));
    assert.deepEqual(admittedOrder, [0, 1, 2]);
    const s = await g.status();
    assert.equal(s.holders, 2);
    assert.equal(s.waiting, 1);
    assert.equal(s.admissions, 5);
  });

  it('positions come as an async iterator that ends on admission', async () => {
    const g = await gate(fresh());
    await g.create({ limit: 1 });
    const holder = await g.acquire();
    const w1 = await g.enqueue();
    const w2 = await g.enqueue();
    const seen: number[] = [];
    const done = (async () => { for await (const p of w2.positions()) seen.push(p.position); })();
    await holder.release();
    const slot = await w1.admitted;
    await eventually(() => assert.equal(w2.position, 1));
    await slot.release();
    await done;
    assert.deepEqual(seen, [2, 1]);
    assert.ok((await w2.admitted).isHeld);
  });

  it('a holder that stops renewing loses its slot after the lease; a silent waiter loses its place after the grace period', async () => {
    const g = await gate(fresh());
    await g.create({ limit: 1, leaseMs: 400, graceMs: 400 });
    const quiet = await g.acquire();
    quiet.stop();
    const departing = await g.enqueue();
    const staying = await g.enqueue();
    assert.equal(staying.position, 2);
    // Silenced: no heartbeat from now on, so its grace runs out.
    departing.expel(new Error('test') as never);
    const slot = await staying.admitted;
    assert.ok(slot.isHeld);
    await assert.rejects(quiet.renew(), { code: 'SLOT_NOT_HELD' });
    const s = await g.status();
    assert.equal(s.holders, 1);
    assert.equal(s.waiting, 0);
    await assert.rejects(g.resume(departing.ticket), { code: 'TICKET_EXPIRED' });
  });

  it('a ticket resumed through another client keeps its place and is admitted there', async () => {
    const name = fresh();
    const g1 = await gate(name);
    await g1.create({ limit: 1, graceMs: 5000 });
    const holder = await g1.acquire();
    await g1.enqueue();
    const mine = await g1.enqueue();
    assert.equal(mine.position, 2);
    const ticket = mine.ticket;
    // The first web server goes away; the visitor lands on another.
    g1.close();
    const g2 = await gate(name);
    const resumed = await g2.resume(ticket);
    assert.equal(resumed.position, 2);
    await holder.release();
    await eventually(() => assert.equal(resumed.position, 1));
    await assert.rejects(g2.release(holder.ticket), { code: 'SLOT_NOT_HELD' });
  });

  it('priority classes: a class-0 arrival is admitted before class-1 waiters that came earlier; FIFO within a class', async () => {
    const g = await gate(fresh());
    await g.create({ limit: 1, classes: 2 });
    const holder = await g.acquire();
    const low1 = await g.enqueue({ priority: 1 });
    const low2 = await g.enqueue({ priority: 1 });
    const high = await g.enqueue({ priority: 0 });
    assert.equal(high.position, 1);
    await eventually(() => assert.deepEqual([low1.position, low2.position], [2, 3]));
    const order: string[] = [];
    high.once('admitted', () => order.push('high'));
    low1.once('admitted', () => order.push('low1'));
    low2.once('admitted', () => order.push('low2'));
    await holder.release();
    await (await high.admitted).release();
    await (await low1.admitted).release();
    await low2.admitted;
    assert.deepEqual(order, ['high', 'low1', 'low2']);
  });

  it('a per-minute limit holds admissions even with slots free', async () => {
    const g = await gate(fresh());
    await g.create({ limit: 10, perMinute: 2 });
    await g.acquire();
    await g.acquire();
    const third = await g.enqueue();
    assert.equal(third.position, 1);
    const s = await g.status();
    assert.equal(s.holders, 2);
    assert.equal(s.waiting, 1);
    assert.equal(s.lastMinute, 2);
  });

  it('pre-queue: arrivals before the opening instant are placed, in some order, when it comes', async () => {
    const g = await gate(fresh());
    await g.create({ limit: 1, opensAt: Date.now() + 60_000 });
    const early = [await g.enqueue(), await g.enqueue(), await g.enqueue()];
    assert.deepEqual(early.map((w) => w.position), [0, 0, 0]);
    assert.equal((await g.status()).prequeued, 3);
    await g.set({ opensAt: Date.now() });
    // One is admitted; the other two hold positions 1 and 2.
    await eventually(() => {
      const admitted = early.filter((w) => w.isDone).length;
      assert.equal(admitted, 1);
      assert.deepEqual(early.filter((w) => !w.isDone).map((w) => w.position).sort(), [1, 2]);
    });
  });

  it('a resent ACQUIRE (same request id) gets the same ticket, not a second place', async () => {
    const c = await client();
    const g = await gate(fresh(), c);
    await g.create({ limit: 1 });
    const channel = c.service('gates');
    const body = encodeAcquire(0, 'one-request');
    const first = decodeTicketReply((await channel.request(GateFrame.ACQUIRE, g.resource, body)).payload);
    const again = decodeTicketReply((await channel.request(GateFrame.ACQUIRE, g.resource, body)).payload);
    assert.equal(again.ticket, first.ticket);
    assert.equal((await g.status()).admissions, 1);
    await g.release(first.ticket);
  });

  it('bad input gets a clear error and changes nothing', async () => {
    const name = fresh();
    const g = await gate(name);
    await assert.rejects(g.acquire(), { code: 'UNKNOWN_GATE' });
    await assert.rejects(g.create({ limit: 0 }), { code: 'INVALID_LIMIT' });
    await assert.rejects(g.status(), { code: 'UNKNOWN_GATE' });
    await g.create({ limit: 1, leaseMs: 5000 });
    await assert.rejects(g.create({ limit: 3 }), { code: 'GATE_EXISTS' });
    await assert.rejects(g.set({ limit: -1 }), { code: 'INVALID_LIMIT' });
    await assert.rejects(g.set({ leaseMs: 5 }), { code: 'INVALID_ARGUMENT' });
    const holder = await g.acquire();
    const w = await g.enqueue();
    const before = await g.status();
    await assert.rejects(g.resume('1.0.AAAAAAAAAAAAAAAAAAAAAA'), { code: 'INVALID_TICKET' });
    await assert.rejects(g.resume('not a ticket'), { code: 'INVALID_TICKET' });
    await assert.rejects(g.release(w.ticket), { code: 'SLOT_NOT_HELD' });
    await assert.rejects(g.enqueue({ priority: 3 }), { code: 'INVALID_ARGUMENT' });
    // A ticket of another gate does not verify here.
    const other = await gate(fresh());
    await other.create({ limit: 1 });
    const foreign = await other.acquire();
    await assert.rejects(g.release(foreign.ticket), { code: 'INVALID_TICKET' });
    await holder.release();
    await assert.rejects(g.release(holder.ticket), { code: 'SLOT_NOT_HELD' });
    const slot = await w.admitted;
    const afterwards = await g.status();
    assert.equal(afterwards.config.limit, before.config.limit);
    assert.equal(afterwards.config.leaseMs, 5000);
    assert.equal(afterwards.holders, 1);
    assert.equal(afterwards.admissions, 2);
    await slot.release();
    await foreign.release();
  });

  it('the admin API lists the gates and their counts; /metrics carries them', async () => {
    const name = fresh();
    const g = await gate(name);
    await g.create({ limit: 1 });
    const held: GateSlot = await g.acquire();
    await g.enqueue();
    const body = (await (await fetch(`${hub.httpUrl}/api/gates/status`)).json()) as { gates: Array<{ gate: string; holders: number; waiting: number }> };
    const mine = body.gates.find((x) => x.gate === gateResource(name));
    assert.deepEqual(mine && { holders: mine.holders, waiting: mine.waiting }, { holders: 1, waiting: 1 });
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    assert.match(metrics, new RegExp(`corral_gate_holders\\{gate="gate\\|${name}"\\} 1`));
    assert.match(metrics, new RegExp(`corral_gate_waiting\\{gate="gate\\|${name}"\\} 1`));
    await held.release();
  });
});
