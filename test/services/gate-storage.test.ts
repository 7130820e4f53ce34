import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { connect, type Client } from '../../src/client/index.js';
import { resourceStateKey } from '../../src/hub/resource-state.js';
import { isCorralError } from '../../src/protocol/corral-error.js';
import { GateBook } from '../../src/services/gates/gate-book.js';
import { decodeTicketReply, encodeAcquire, gateResource, GateFrame, TicketState, type TicketReply } from '../../src/services/gates/gate-frames.js';
import { gateHeadKey, GateStore, MOVED_MARKER, type GateHead, type StoredGateV1 } from '../../src/services/gates/gate-store.js';
import { Gate } from '../../src/services/gates/gate.js';
import type { GateWaiter } from '../../src/services/gates/gate-waiter.js';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.js';
import type { Stores } from '../../src/store/stores.js';
import { removeDir, startHub, tempDir, type HubProcess } from '../support/hub-process.js';

interface Row {
  key: string;
  version: number;
  bytes: number;
}

/** Every stored row of one gate (its head and seats), read from the hub's SQLite file by another connection. */
function gateRows(dataDir: string, resource: string): Map<string, Row> {
  const db = new Database(join(dataDir, 'corral.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare<[], Row>('SELECT key, version, length(CAST(value AS BLOB)) AS bytes FROM metadata').all();
    const mine = (k: string): boolean => k === gateHeadKey(resource) || k.startsWith(`gateseat|${resource}|`);
    return new Map(rows.filter((r) => mine(r.key)).map((r) => [r.key, r]));
  } finally {
    db.close();
  }
}

/** What a step wrote: rows created or rewritten (with their bytes) and rows deleted. */
function written(before: Map<string, Row>, after: Map<string, Row>): { puts: number; deletes: number; bytes: number } {
  let puts = 0;
  let bytes = 0;
  for (const [key, row] of after) {
    if (before.get(key)?.version === row.version) continue;
    puts++;
    bytes += row.bytes;
  }
  const deletes = [...before.keys()].filter((k) => !after.has(k)).length;
  return { puts, deletes, bytes };
}

const ack = async (client: Client, resource: string, cls: number, request: string): Promise<TicketReply> =>
  decodeTicketReply((await client.service('gates').request(GateFrame.ACQUIRE, resource, encodeAcquire(cls, request))).payload);

describe('gate storage', () => {
  const clients: Client[] = [];
  const gates: Gate[] = [];
  const dirs: string[] = [];
  let hub: HubProcess | undefined;
  let stores: Stores | undefined;
  afterEach(async () => {
    for (const g of gates.splice(0)) g.close();
    for (const c of clients.splice(0)) await c.close();
    await hub?.stop();
    hub = undefined;
    await stores?.close();
    stores = undefined;
  });
  after(() => {
    for (const d of dirs) removeDir(d);
  });

  it('a gate with 2,000 waiters: an enqueue and an admission each write the head and one or two seats, not the queue', async () => {
    hub = await startHub();
    const dataDir = hub.dataDir;
    const resource = gateResource('big');
    for (let i = 0; i < 4; i++) {
      const c = await connect(hub.url);
      clients.push(c);
      gates.push(Gate.open(c, 'big'));
    }
    await gates[0]!.create({ limit: 1, graceMs: 600_000, leaseMs: 600_000 });
    const holder = await gates[0]!.acquire();
    const waiters: GateWaiter[] = [];
    for (let i = 0; i < 2000; i += 250) {
      waiters.push(...await Promise.all(Array.from({ length: 250 }, (_, j) => gates[(i + j) % gates.length]!.enqueue())));
    }
    assert.equal((await gates[0]!.status()).waiting, 2000);
    const full = gateRows(dataDir, resource);
    assert.equal(full.size, 1 + 1 + 2000, 'the head, the holder and every waiter each have a row');
    const stored = [...full.values()].reduce((n, r) => n + r.bytes, 0);
    assert.ok(stored > 40_000, `the gate stores ${stored} bytes in all`);

    // One more visitor: the head and its own seat.
    const late = await gates[1]!.enqueue();
    assert.equal(late.position, 2001);
    const afterEnqueue = gateRows(dataDir, resource);
    const enq = written(full, afterEnqueue);
    assert.deepEqual({ puts: enq.puts, deletes: enq.deletes }, { puts: 2, deletes: 0 });
    assert.ok(enq.bytes < 1000, `an enqueue wrote ${enq.bytes} bytes`);

    // A release admits the head of the queue: the head, the new holder's seat, and the old holder's seat deleted.
    await holder.release();
    await waiters[0]!.admitted;
    assert.equal((await gates[0]!.status()).waiting, 2000);
    const afterAdmission = gateRows(dataDir, resource);
    const adm = written(afterEnqueue, afterAdmission);
    assert.deepEqual({ puts: adm.puts, deletes: adm.deletes }, { puts: 2, deletes: 1 });
    assert.ok(adm.bytes < 1000, `an admission wrote ${adm.bytes} bytes`);
  });

  it('loads a gate stored whole by the first layout, with holders and queue intact, and stores it seat by seat from then on', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const resource = gateResource('old');
    const nonces: Array<[number, string]> = [[1, 'n1'], [2, 'n2'], [3, 'n3'], [4, 'n4'], [5, 'n5'], [6, 'n6']];
    const v1: StoredGateV1 = {
      v: 1, salt: 'oldsalt', config: { limit: 2, leaseMs: 600_000, graceMs: 600_000, classes: 2, perMinute: 0, opensAt: 0 },
      next: 7, admissions: 2, holders: [[1, 0, 1], [2, 1, 2]], queues: [[4, 6], [3, 5]], pre: [], recent: [], nonces,
    };
    const seed = openSqliteStores({ path: join(dataDir, 'corral.db'), durability: 'process' });
    await seed.metadata.put(resourceStateKey(resource), JSON.stringify({ epoch: 0, data: JSON.stringify(v1) }));
    await seed.close();

    hub = await startHub({ dataDir });
    const c = await connect(hub.url);
    clients.push(c);
    const g = Gate.open(c, 'old');
    gates.push(g);
    const s = await g.status();
    assert.deepEqual({ holders: s.holders, waiting: s.waiting, byClass: s.waitingByClass, admissions: s.admissions }, { holders: 2, waiting: 4, byClass: [2, 2], admissions: 2 });
    // Each visitor's resent ACQUIRE finds its place: class 0 first, FIFO within each class.
    const places = await Promise.all(['n4', 'n6', 'n3', 'n5'].map((n, i) => ack(c, resource, i < 2 ? 0 : 1, n)));
    assert.deepEqual(places.map((p) => [p.state, p.position]), [[TicketState.WAITING, 1], [TicketState.WAITING, 2], [TicketState.WAITING, 3], [TicketState.WAITING, 4]]);
    const first = await ack(c, resource, 0, 'n1');
    assert.deepEqual([first.state, first.admission], [TicketState.ADMITTED, 1]);

    // A release admits the head (seq 4), and the next owner reads the new layout.
    await g.release(first.ticket);
    assert.equal((await g.status()).admissions, 3);
    stores = openSqliteStores({ path: join(dataDir, 'corral.db'), durability: 'process' });
    const head = JSON.parse((await stores.metadata.get(gateHeadKey(resource)))!.value) as GateHead;
    assert.deepEqual({ next: head.next, admissions: head.admissions, holders: head.holders, waiting: head.waiting }, { next: 7, admissions: 3, holders: 2, waiting: 3 });
    const state = JSON.parse((await stores.metadata.get(resourceStateKey(resource)))!.value) as { data: string };
    assert.equal(state.data, MOVED_MARKER, 'the whole value is gone from the resource state');
    const seats = await stores.metadata.list(`gateseat|${resource}|`);
    assert.deepEqual(seats.map((e) => [e.key.split('|').pop(), (JSON.parse(e.value) as unknown[])[0]]).sort(), [['2', 'h'], ['3', 'w'], ['4', 'h'], ['5', 'w'], ['6', 'w']]);
    await stores.close();
    stores = undefined;

    // Restarted on the same directory: the queue as it was, with seq 6 now at the head.
    await hub.kill('SIGKILL');
    hub = await startHub({ dataDir });
    const c2 = await connect(hub.url);
    clients.push(c2);
    const again = await Promise.all(['n6', 'n3', 'n5', 'n4'].map((n, i) => ack(c2, resource, i === 0 ? 0 : 1, n)));
    assert.deepEqual(again.map((p) => [p.state, p.position]), [[TicketState.WAITING, 1], [TicketState.WAITING, 2], [TicketState.WAITING, 3], [TicketState.ADMITTED, 0]]);
  });

  it('a stale owner\'s write is refused (FENCED) once a newer owner gained the gate, and nothing of it lands', async () => {
    const dir = tempDir();
    dirs.push(dir);
    stores = openSqliteStores({ path: join(dir, 'corral.db'), durability: 'process' });
    const metadata: MetadataStore = stores.metadata;
    const resource = gateResource('fenced');
    const old = new GateStore(metadata, resource, 1);
    assert.equal(await old.gain(undefined), undefined);
    const config = { limit: 1, leaseMs: 30_000, graceMs: 30_000, classes: 1, perMinute: 0, opensAt: 0 };
    const stale = GateBook.create<never>('salt', config, 1000);
    for (let i = 0; i < 5; i++) stale.enqueue(0, `r${i}`, 1000, undefined);
    stale.admit(1000);
    await old.write(stale);
    const rows = async (): Promise<Array<[string, string]>> => (await metadata.list('gate')).map((e) => [e.key, e.value]);

    const fresh = new GateStore(metadata, resource, 2);
    const loaded = await fresh.gain(undefined);
    assert.ok(loaded);
    const book = GateBook.load<never>(loaded.snapshot, 2000);
    assert.deepEqual([[...book.holders.keys()], book.queues[0]], [[1], [2, 3, 4, 5]]);
    const landed = await rows();

    // The stale owner goes on: a release, an admission, a new arrival. None of it may land.
    stale.release(1);
    stale.admit(1500);
    stale.enqueue(0, 'late', 1500, undefined);
    await assert.rejects(old.write(stale), (err: unknown) => isCorralError(err, 'FENCED'));
    assert.deepEqual(await rows(), landed);
    assert.ok(stale.dirty, 'the refused changes stay noted');

    // The new owner writes on; a stale owner cannot raise the fence back either.
    book.enqueue(0, 'new', 2000, undefined);
    await fresh.write(book);
    const head = JSON.parse((await metadata.get(gateHeadKey(resource)))!.value) as GateHead;
    assert.deepEqual([head.epoch, head.waiting, head.next], [2, 5, 7]);
    await assert.rejects(new GateStore(metadata, resource, 1).gain(undefined), (err: unknown) => isCorralError(err, 'FENCED'));
  });
});
