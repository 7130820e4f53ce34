import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect } from '../../src/client/index.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import { DEDUP_UNKNOWN_FEATURE, Duplicate, type Frame } from '../../src/protocol/frames.js';
import { removeDir, startHub } from '../support/hub-process.js';
import { isPublish, ScriptedHub } from './scripted-hub.js';

describe('client publish results [P-4.4]', () => {
  const hubs: ScriptedHub[] = [];
  after(async () => { await Promise.all(hubs.map((h) => h.stop())); });

  it('reports a retry whose original the hub no longer knows with no seq, never as seq 0', async () => {
    // Payload "<duplicate value> <seq>" tells the scripted hub what to answer.
    const hub = await ScriptedHub.start((f): Frame[] => {
      if (!isPublish(f)) return [];
      const [duplicate, seq] = f.payload.toString().split(' ').map(Number) as [Duplicate, number];
      return [{ type: FrameType.PUBLISH_ACK, corr: f.corr, seq, duplicate }];
    });
    hubs.push(hub);
    const client = await connect(hub.url);
    try {
      assert.deepEqual(await client.publish('t', `${Duplicate.NO} 4`), { seq: 4, duplicate: false });
      assert.deepEqual(await client.publish('t', `${Duplicate.YES} 3`), { seq: 3, duplicate: true });
      assert.deepEqual(await client.publish('t', `${Duplicate.ORIGINAL_UNKNOWN} 0`), { seq: undefined, duplicate: true });
      // A hub that does not grant the feature answers as version 1 did: a duplicate of seq 0.
      assert.deepEqual(await client.publish('t', `${Duplicate.YES} 0`), { seq: undefined, duplicate: true });
    } finally {
      await client.close();
    }
  });

  it('asks the hub for the explicit answer, and a hub grants it', async () => {
    const hub = await startHub();
    const client = await connect(hub.url);
    try {
      assert.deepEqual(await client.publish('t', 'x'), { seq: 1, duplicate: false });
      assert.ok(client.hubs()[0]!.features.includes(DEDUP_UNKNOWN_FEATURE));
    } finally {
      await client.close();
      await hub.stop();
      removeDir(hub.dataDir);
    }
  });
});
