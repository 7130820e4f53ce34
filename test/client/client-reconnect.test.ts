import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect, isCorralError, type Client, type CorralError, type PublishResult } from '../../src/client/index.js';
import { removeDir, startHub, type HubProcess } from '../support/hub-process.js';

const RECONNECT = { initialDelayMs: 50, maxDelayMs: 500 };

interface Received {
  seqs: number[];
  payloads: Map<number, string>;
}

/** Consumes a subscription until `done()` says so, acking every message. */
async function consume(client: Client, topic: string, done: (r: Received) => boolean): Promise<Received> {
  const sub = await client.subscribe(topic, 'consumer', { from: 'earliest', credit: 200 });
  const r: Received = { seqs: [], payloads: new Map() };
  for await (const msg of sub) {
    r.seqs.push(msg.seq);
    r.payloads.set(msg.seq, msg.payload.toString());
    msg.ack();
    if (done(r)) break;
  }
  return r;
}

/**
 * Publishes `total` messages with up to `window` in flight, calling
 * `midway` once `trigger` of them are acknowledged. Resolves with every
 * outcome, and how often each promise settled.
 */
async function publishThrough(client: Client, topic: string, total: number, window: number, trigger: number, midway: () => Promise<void>): Promise<{ results: PublishResult[]; settleCounts: number[] }> {
  const results: PublishResult[] = new Array<PublishResult>(total);
  const settleCounts = new Array<number>(total).fill(0);
  let acked = 0;
  let next = 0;
  let midwayRun: Promise<void> | undefined;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (next < total && next - acked < window) {
        const i = next++;
        client.publish(topic, `m${i}`).then((r) => {
          results[i] = r;
          settleCounts[i]!++;
          acked++;
          if (acked === trigger) midwayRun = midway();
          if (acked === total) resolve();
          else pump();
        }, (err: unknown) => {
          settleCounts[i]!++;
          reject(err);
        });
      }
    };
    pump();
  });
  await midwayRun;
  return { results, settleCounts };
}

async function restartOnSamePort(hub: HubProcess, signal: NodeJS.Signals): Promise<HubProcess> {
  await hub.kill(signal);
  return startHub({ dataDir: hub.dataDir, port: hub.port });
}

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  describe(`client across a hub restart (${signal})`, () => {
    it('carries on with the same client objects: every publish settles once, in order, no gap, no duplicate delivery', async () => {
      let hub = await startHub();
      const pub = await connect(hub.url, { reconnect: RECONNECT });
      const subClient = await connect(hub.url, { reconnect: RECONNECT });
      const events: string[] = [];
      pub.on('disconnect', () => events.push('disconnect'));
      pub.on('reconnect', () => events.push('reconnect'));
      try {
        // Retention keeps every original, so a resent duplicate's ack names its seq [P-4.4].
        await pub.configureTopic('load', { retainCount: 1_000_000 });
        const total = 6000;
        const consumed = consume(subClient, 'load', (r) => r.seqs.length > 0 && r.seqs[r.seqs.length - 1]! >= total);
        const { results, settleCounts } = await publishThrough(pub, 'load', total, 500, 1500, async () => {
          hub = await restartOnSamePort(hub, signal);
        });
        assert.ok(settleCounts.every((n) => n === 1), 'every publish promise settled exactly once');
        // Stored exactly once each, in the order published: the i-th publish is seq i+1.
        assert.deepEqual(results.map((r) => r.seq), Array.from({ length: total }, (_, i) => i + 1));
        const received = await consumed;
        assert.deepEqual(received.seqs, Array.from({ length: total }, (_, i) => i + 1), 'no gap, no duplicate, no reordering');
        for (const [seq, payload] of received.payloads) assert.equal(payload, `m${seq - 1}`);
        assert.deepEqual(events.slice(0, 2), ['disconnect', 'reconnect']);
      } finally {
        await pub.close();
        await subClient.close();
        await hub.stop();
        removeDir(hub.dataDir);
      }
    });
  });
}

describe('client reconnect limits', () => {
  it('fails pending requests and subscriptions with CONNECTION_CLOSED once reconnect attempts are exhausted', async () => {
    const hub = await startHub();
    const client = await connect(hub.url, { reconnect: { initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 3 } });
    const errors: CorralError[] = [];
    client.on('error', (e) => errors.push(e));
    try {
      const sub = await client.subscribe('gone', 's');
      const ended = assert.rejects(sub.next(), (err) => isCorralError(err, 'CONNECTION_CLOSED'));
      await hub.kill('SIGKILL');
      await assert.rejects(client.publish('gone', 'x'), (err) => isCorralError(err, 'CONNECTION_CLOSED'));
      await ended;
      await assert.rejects(client.publish('gone', 'y'), (err) => isCorralError(err, 'CONNECTION_CLOSED'));
      assert.ok(errors.some((e) => e.code === 'CONNECTION_CLOSED'), 'the client reports giving up');
    } finally {
      await client.close();
      removeDir(hub.dataDir);
    }
  });

  it('rejects a request that waits longer than requestTimeoutMs with TIMEOUT', async () => {
    const hub = await startHub();
    const client = await connect(hub.url, { requestTimeoutMs: 300, reconnect: { initialDelayMs: 5000, maxDelayMs: 5000 } });
    try {
      await hub.kill('SIGKILL');
      await assert.rejects(client.publish('t', 'x'), (err) => isCorralError(err, 'TIMEOUT'));
    } finally {
      await client.close();
      removeDir(hub.dataDir);
    }
  });
});
