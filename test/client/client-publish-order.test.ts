import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect, isCorralError } from '../../src/client/index.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import { Duplicate, PUBLISH_ORDER_FEATURE, type Frame, type PublishFrame } from '../../src/protocol/frames.js';
import { ack, error, isPublish, ScriptedHub } from './scripted-hub.js';

/**
 * A hub that stores a publish only after the one it names [P-4.6], and
 * refuses the first attempt of the publishes `refuse` picks (a failed commit,
 * a refusal for good). The order it stores payloads in is what a subscriber
 * would read.
 */
async function orderingHub(refuse: (f: PublishFrame, attempt: number) => Frame | undefined, features = [PUBLISH_ORDER_FEATURE]) {
  const stored: string[] = [];
  const attempts = new Map<string, number>();
  let latest = 0;
  const hub = await ScriptedHub.start((f) => {
    if (!isPublish(f)) return [];
    const payload = f.payload.toString();
    const attempt = (attempts.get(payload) ?? 0) + 1;
    attempts.set(payload, attempt);
    const refusal = refuse(f, attempt);
    if (refusal !== undefined) return [refusal];
    if (f.producerSeq <= latest) return [{ type: FrameType.PUBLISH_ACK, corr: f.corr, seq: 0, duplicate: Duplicate.ORIGINAL_UNKNOWN }];
    if ((f.afterSeq ?? 0) > latest) return [error(f.corr, 'OUT_OF_ORDER')];
    latest = f.producerSeq;
    stored.push(payload);
    return [ack(f, stored.length)];
  }, features);
  return { hub, stored };
}

const made = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i}`);

describe('client: publishes stored in the order made, across refusals [P-4.6]', () => {
  const hubs: ScriptedHub[] = [];
  after(async () => { await Promise.all(hubs.map((h) => h.stop())); });

  it('resends a publish the hub refused ahead of the later ones it refused for its sake', async () => {
    // The hub's commit of m0 fails; m1…m49 are already on their way, each naming the one before it.
    const { hub, stored } = await orderingHub((f, attempt) => (f.payload.toString() === 'm0' && attempt === 1 ? error(f.corr, 'STORE_UNAVAILABLE') : undefined));
    hubs.push(hub);
    const client = await connect(hub.url, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    try {
      const results = await Promise.all(made(50).map((m) => client.publish('t', m)));
      assert.deepEqual(results.map((r) => r.seq), Array.from({ length: 50 }, (_, i) => i + 1));
      assert.deepEqual(stored, made(50), 'stored in the order made');
      const first = hub.publishes().filter((p) => p.payload.toString() === 'm1')[0]!;
      assert.equal(first.afterSeq, hub.publishes()[0]!.producerSeq, 'm1 named m0');
    } finally {
      await client.close();
    }
  });

  it('lets the later publishes in once an earlier one is refused for good', async () => {
    const { hub, stored } = await orderingHub((f) => (f.payload.toString() === 'm0' ? error(f.corr, 'FORBIDDEN') : undefined));
    hubs.push(hub);
    const client = await connect(hub.url);
    try {
      const all = made(20).map((m) => client.publish('t', m));
      await assert.rejects(all[0]!, (err) => isCorralError(err, 'FORBIDDEN'));
      const rest = await Promise.all(all.slice(1));
      assert.deepEqual(rest.map((r) => r.seq), Array.from({ length: 19 }, (_, i) => i + 1));
      assert.deepEqual(stored, made(20).slice(1));
    } finally {
      await client.close();
    }
  });

  it('sends no afterSeq to a hub that did not grant the feature', async () => {
    const { hub, stored } = await orderingHub(() => undefined, []);
    hubs.push(hub);
    const client = await connect(hub.url);
    try {
      await Promise.all(made(3).map((m) => client.publish('t', m)));
      assert.deepEqual(stored, made(3));
      assert.ok(hub.publishes().every((p) => p.afterSeq === undefined));
    } finally {
      await client.close();
    }
  });
});
