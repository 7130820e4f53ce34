import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isCorralError } from '../../../src/protocol/corral-error.js';
import type { Stores } from '../../../src/store/stores.js';
import type { StoreHarness } from './store-harness.js';

const FENCE = 'fence|t';
const NO_LIMIT = { maxRecords: 1_000_000, maxBytes: 1 << 30 };

function isFenced(err: unknown): boolean {
  return isCorralError(err, 'FENCED');
}

/**
 * Fenced writes, which every backend must refuse the same way (see Fence in
 * metadata-store.ts and MessageLog.trim): once a newer owner raised a
 * resource's fence, or claimed its topic, a stale owner's metadata writes
 * and trims store nothing. `open` must give an empty pair of stores.
 */
export function runFencingConformance(backend: string, open: () => Promise<StoreHarness<Stores>>): void {
  describe(`fencing conformance: ${backend}`, () => {
    let h: StoreHarness<Stores>;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.destroy();
    });

    /** Raises the fence to `epoch` the way an owner does when it loads the resource. */
    async function raise(epoch: number): Promise<void> {
      const res = await h.store.metadata.put(FENCE, String(epoch), { fence: { key: FENCE, epoch } });
      assert.equal(res.ok, true);
    }

    it('a fenced put passes while the fence is absent or not above its epoch, and is refused, writing nothing, once raised above', async () => {
      const { metadata } = h.store;
      assert.equal((await metadata.put('sub|t|a', 'v1', { fence: { key: FENCE, epoch: 1 } })).ok, true, 'no fence yet');
      await raise(1);
      assert.equal((await metadata.put('sub|t|a', 'v2', { fence: { key: FENCE, epoch: 1 } })).ok, true, 'fence at the writer\'s epoch');
      await raise(2);
      await assert.rejects(metadata.put('sub|t|a', 'stale', { fence: { key: FENCE, epoch: 1 } }), isFenced);
      await assert.rejects(metadata.put('sub|t|b', 'stale', { fence: { key: FENCE, epoch: 1 }, expectedVersion: 0 }), isFenced);
      assert.equal((await metadata.get('sub|t|a'))?.value, 'v2');
      assert.equal(await metadata.get('sub|t|b'), undefined, 'a stale owner cannot bring a subscription back');
      assert.equal((await metadata.put('sub|t|a', 'v3', { fence: { key: FENCE, epoch: 2 } })).ok, true);
    });

    it('a stale owner cannot lower a raised fence', async () => {
      await raise(3);
      await assert.rejects(h.store.metadata.put(FENCE, '2', { fence: { key: FENCE, epoch: 2 } }), isFenced);
      assert.equal((await h.store.metadata.get(FENCE))?.value, '3');
    });

    it('a fenced delete is refused once the fence is raised above its epoch, and the key stays', async () => {
      const { metadata } = h.store;
      await raise(1);
      await metadata.put('sub|t|a', 'v');
      await raise(2);
      await assert.rejects(metadata.delete('sub|t|a', undefined, { key: FENCE, epoch: 1 }), isFenced);
      assert.equal((await metadata.get('sub|t|a'))?.value, 'v');
      assert.equal(await metadata.delete('sub|t|a', undefined, { key: FENCE, epoch: 2 }), true);
      assert.equal(await metadata.get('sub|t|a'), undefined);
    });

    it('putMany writes the entries whose fence holds and skips the others, in one call', async () => {
      const { metadata } = h.store;
      await metadata.put('fence|u', '5', { fence: { key: 'fence|u', epoch: 5 } });
      await raise(2);
      const verdicts = await metadata.putMany([
        { key: 'sub|t|a', value: 'stale', fence: { key: FENCE, epoch: 1 } },
        { key: 'sub|u|a', value: 'fresh', fence: { key: 'fence|u', epoch: 5 } },
        { key: 'sub|t|b', value: 'current', fence: { key: FENCE, epoch: 2 } },
        { key: 'plain', value: 'unfenced' },
      ]);
      assert.deepEqual(verdicts, [false, true, true, true]);
      assert.equal(await metadata.get('sub|t|a'), undefined);
      assert.deepEqual(await Promise.all(['sub|u|a', 'sub|t|b', 'plain'].map(async (k) => (await metadata.get(k))?.value)), ['fresh', 'current', 'unfenced']);
    });

    it('writeBatch lands whole while the fence is not above its epoch, and once raised above is refused whole, FENCED', async () => {
      const { metadata } = h.store;
      await raise(1);
      await metadata.writeBatch({ key: FENCE, epoch: 1 }, { puts: [{ key: 'g|a', value: 'a1' }, { key: 'g|b', value: 'b1' }], deletes: [] });
      await raise(2);
      await assert.rejects(metadata.writeBatch({ key: FENCE, epoch: 1 }, { puts: [{ key: 'g|a', value: 'stale' }, { key: 'g|c', value: 'stale' }], deletes: ['g|b'] }), isFenced);
      assert.deepEqual((await metadata.list('g|')).map((e) => [e.key, e.value]), [['g|a', 'a1'], ['g|b', 'b1']], 'nothing of the stale batch landed');
      await metadata.writeBatch({ key: FENCE, epoch: 2 }, { puts: [{ key: 'g|c', value: 'c2' }], deletes: ['g|a'] });
      assert.deepEqual((await metadata.list('g|')).map((e) => [e.key, e.value]), [['g|b', 'b1'], ['g|c', 'c2']]);
    });

    it('a trim with the epoch of a claim that was superseded deletes nothing and fails FENCED; with the current epoch it trims', async () => {
      const { log } = h.store;
      await log.claim('t', 1);
      const recs = Array.from({ length: 10 }, (_, i) => ({
        seq: i + 1, timestamp: 1000 + i, key: undefined, payload: Buffer.from(`m${i + 1}`), producerId: undefined, producerSeq: 0,
      }));
      assert.deepEqual(await log.append([{ topic: 't', epoch: 1, records: recs }]), [true]);
      assert.equal(await log.trim('t', 3, 1), 3, 'the owner trims');
      await log.claim('t', 2);
      await assert.rejects(log.trim('t', 8, 1), isFenced);
      assert.equal((await log.bounds('t'))?.firstSeq, 4, 'nothing trimmed by the stale owner');
      assert.deepEqual((await log.read('t', 1, NO_LIMIT)).map((r) => r.seq), [4, 5, 6, 7, 8, 9, 10]);
      assert.equal(await log.trim('t', 5, 2), 2, 'the new owner trims');
      assert.equal((await log.bounds('t'))?.firstSeq, 6);
    });
  });
}
