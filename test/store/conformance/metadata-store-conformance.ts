import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MetadataEntry, MetadataStore, PutResult } from '../../../src/store/metadata-store.js';
import type { StoreHarness } from './store-harness.js';

/** A lease short enough to lapse in a test, long enough for any backend to read it back first. */
// Long enough that two writes in a row land within it on a busy machine.
const SHORT_TTL_MS = 500;

/**
 * Waits until every key written with SHORT_TTL_MS before this call has
 * lapsed: keys lapse by the store's clock, so it is the store's clock that
 * is watched, however slowly this process runs.
 */
async function pastShortTtl(s: MetadataStore): Promise<void> {
  const lapseBy = (await s.now()) + SHORT_TTL_MS;
  while ((await s.now()) <= lapseBy) await sleep(10);
}

function okVersion(res: PutResult): number {
  assert.equal(res.ok, true, `expected the write to succeed, got ${JSON.stringify(res)}`);
  return (res as { ok: true; version: number }).version;
}

function refused(res: PutResult): MetadataEntry | undefined {
  assert.equal(res.ok, false, `expected the write to be refused, got ${JSON.stringify(res)}`);
  return (res as { ok: false; current: MetadataEntry | undefined }).current;
}

/**
 * The behaviour every MetadataStore backend must show (see metadata-store.ts).
 * Call it at the top level of a test file; `open` must give an empty store.
 */
export function runMetadataStoreConformance(backend: string, open: () => Promise<StoreHarness<MetadataStore>>): void {
  describe(`MetadataStore conformance: ${backend}`, () => {
    let h: StoreHarness<MetadataStore>;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.destroy();
    });

    describe('versions', () => {
      it('returns undefined for a key never written', async () => {
        assert.equal(await h.store.get('nothing|here'), undefined);
      });

      it('starts at 1 and adds 1 on every write', async () => {
        const s = h.store;
        assert.equal(okVersion(await s.put('k', 'a')), 1);
        assert.deepEqual(await s.get('k'), { key: 'k', value: 'a', version: 1, expiresAt: undefined });
        assert.equal(okVersion(await s.put('k', 'b')), 2);
        assert.equal(okVersion(await s.put('k', 'b')), 3);
        assert.deepEqual(await s.get('k'), { key: 'k', value: 'b', version: 3, expiresAt: undefined });
      });

      it('round-trips values exactly: empty, unicode, JSON, 200 KB', async () => {
        const s = h.store;
        const values = ['', 'ключ ☃ 𝄞 "quoted" \\ back', JSON.stringify({ a: [1, 2, { b: null }] }), 'x'.repeat(200_000)];
        for (const [i, v] of values.entries()) await s.put(`v|${i}`, v);
        for (const [i, v] of values.entries()) assert.equal((await s.get(`v|${i}`))?.value, v);
      });
    });

    describe('compare-and-set', () => {
      it('expectedVersion 0 creates an absent key and refuses an existing one', async () => {
        const s = h.store;
        assert.equal(okVersion(await s.put('k', 'first', { expectedVersion: 0 })), 1);
        const current = refused(await s.put('k', 'second', { expectedVersion: 0 }));
        assert.deepEqual(current, { key: 'k', value: 'first', version: 1, expiresAt: undefined });
        assert.equal((await s.get('k'))?.value, 'first');
      });

      it('expectedVersion n writes only when the version is n', async () => {
        const s = h.store;
        await s.put('k', 'a');
        await s.put('k', 'b');
        const current = refused(await s.put('k', 'stale', { expectedVersion: 1 }));
        assert.equal(current?.version, 2);
        assert.equal(current?.value, 'b');
        assert.equal(okVersion(await s.put('k', 'c', { expectedVersion: 2 })), 3);
        assert.deepEqual(await s.get('k'), { key: 'k', value: 'c', version: 3, expiresAt: undefined });
      });

      it('expectedVersion n on an absent key is refused with no current entry', async () => {
        assert.equal(refused(await h.store.put('absent', 'x', { expectedVersion: 1 })), undefined);
        assert.equal(await h.store.get('absent'), undefined);
      });

      it('lets exactly one of many concurrent creators win', async () => {
        const s = h.store;
        const results = await Promise.all(Array.from({ length: 24 }, (_, i) => s.put('race|create', `hub-${i}`, { expectedVersion: 0 })));
        const winners = results.filter((r) => r.ok);
        assert.equal(winners.length, 1);
        const stored = await s.get('race|create');
        assert.equal(stored?.version, 1);
        for (const r of results) {
          if (!r.ok) assert.deepEqual(r.current, stored);
        }
      });

      it('lets exactly one of many concurrent updaters of the same version win', async () => {
        const s = h.store;
        await s.put('race|update', 'start');
        const results = await Promise.all(Array.from({ length: 24 }, (_, i) => s.put('race|update', `hub-${i}`, { expectedVersion: 1 })));
        assert.equal(results.filter((r) => r.ok).length, 1);
        assert.equal((await s.get('race|update'))?.version, 2);
      });
    });

    describe('time to live', () => {
      it('stamps expiresAt from the store clock', async () => {
        const s = h.store;
        const before = await s.now();
        await s.put('lease', 'hub-1', { ttlMs: 60_000 });
        const after = await s.now();
        const e = await s.get('lease');
        assert.ok(e?.expiresAt !== undefined, 'a key written with ttlMs has expiresAt');
        // Backends may round the clock to the millisecond differently; 50 ms of slack covers it.
        assert.ok(e.expiresAt >= before + 60_000 - 50 && e.expiresAt <= after + 60_000 + 50, `expiresAt ${e.expiresAt} not in [${before}, ${after}] + 60 s`);
      });

      it('hides a lapsed key from get and list', async () => {
        const s = h.store;
        const before = await s.now();
        await s.put('lease|a', 'short', { ttlMs: SHORT_TTL_MS });
        const seen = await s.get('lease|a');
        // Read before it could lapse (unless this process was paused that long): visible.
        if ((await s.now()) < before + SHORT_TTL_MS) assert.equal(seen?.value, 'short');
        await s.put('lease|b', 'long', { ttlMs: 60_000 });
        await s.put('lease|c', 'forever');
        await pastShortTtl(s);
        assert.equal(await s.get('lease|a'), undefined);
        assert.deepEqual((await s.list('lease|')).map((e) => e.key), ['lease|b', 'lease|c']);
      });

      it('treats a lapsed key as absent for compare-and-set and continues its version', async () => {
        const s = h.store;
        await s.put('lease', 'hub-1', { ttlMs: SHORT_TTL_MS });
        await s.put('lease', 'hub-1', { ttlMs: SHORT_TTL_MS, expectedVersion: 1 });
        await pastShortTtl(s);
        assert.equal(refused(await s.put('lease', 'hub-1', { expectedVersion: 2 })), undefined);
        // The re-created key continues after the lapsed version, so a holder of the old version can never match it.
        assert.equal(okVersion(await s.put('lease', 'hub-2', { expectedVersion: 0, ttlMs: 60_000 })), 3);
        const e = await s.get('lease');
        assert.equal(e?.value, 'hub-2');
        assert.equal(e?.version, 3);
      });

      it('renews a lease with a new ttl and clears it on a write without ttl', async () => {
        const s = h.store;
        await s.put('lease', 'x', { ttlMs: SHORT_TTL_MS });
        await s.put('lease', 'x', { ttlMs: 60_000, expectedVersion: 1 });
        await s.put('other', 'y', { ttlMs: SHORT_TTL_MS });
        await s.put('other', 'y');
        await pastShortTtl(s);
        assert.equal((await s.get('lease'))?.version, 2);
        assert.deepEqual(await s.get('other'), { key: 'other', value: 'y', version: 2, expiresAt: undefined });
      });

      it('does not delete a lapsed key (it is already absent)', async () => {
        const s = h.store;
        await s.put('lease', 'x', { ttlMs: SHORT_TTL_MS });
        await pastShortTtl(s);
        assert.equal(await s.delete('lease'), false);
        assert.equal(await s.get('lease'), undefined);
      });
    });

    describe('list', () => {
      it('returns the entries under a prefix in key (code point) order', async () => {
        const s = h.store;
        // Collation traps: "|" sorts after letters, upper case before lower case, punctuation is significant.
        const keys = ['sub|t|b', 'sub|t|B', 'sub|t|a', 'sub|t|a|z', 'sub|t|a-b', 'sub|t|ab', 'sub|t|A', 'sub|t|0', 'sub|t|_', 'sub|u|a', 'sub|t'];
        for (const k of keys) await s.put(k, k.toUpperCase());
        const listed = await s.list('sub|t|');
        const expected = keys.filter((k) => k.startsWith('sub|t|')).sort();
        assert.deepEqual(listed.map((e) => e.key), expected);
        assert.deepEqual(listed[0], { key: expected[0], value: expected[0]?.toUpperCase(), version: 1, expiresAt: undefined });
      });

      it('treats the prefix literally (no wildcards, no escapes)', async () => {
        const s = h.store;
        const keys = ['a_c', 'abc', 'aXc', 'a%c', 'a%cd', 'a.c', 'a|c', 'a\\c', 'a\\_c', 'a*c', 'a?c', 'a[c]', 'ab'];
        for (const k of keys) await s.put(k, 'v');
        const cases: Array<[string, string[]]> = [
          ['a_', ['a_c']],
          ['a%', ['a%c', 'a%cd']],
          ['a.', ['a.c']],
          ['a|', ['a|c']],
          ['a\\', ['a\\_c', 'a\\c']],
          ['a\\_', ['a\\_c']],
          ['a*', ['a*c']],
          ['a?', ['a?c']],
          ['a[', ['a[c]']],
          ['ab', ['ab', 'abc']],
          ['a%cd', ['a%cd']],
          ['nope', []],
        ];
        for (const [prefix, expected] of cases) {
          assert.deepEqual((await s.list(prefix)).map((e) => e.key), expected, `list(${JSON.stringify(prefix)})`);
        }
      });

      it('lists every live entry for the empty prefix', async () => {
        const s = h.store;
        for (const k of ['z', 'm', 'a']) await s.put(k, k);
        assert.deepEqual((await s.list('')).map((e) => e.key), ['a', 'm', 'z']);
      });
    });

    describe('putMany', () => {
      it('writes every entry, bumping existing versions', async () => {
        const s = h.store;
        await s.put('cur|1', 'old');
        await s.putMany([{ key: 'cur|1', value: 'new' }, { key: 'cur|2', value: 'two' }]);
        assert.deepEqual(await s.list('cur|'), [
          { key: 'cur|1', value: 'new', version: 2, expiresAt: undefined },
          { key: 'cur|2', value: 'two', version: 1, expiresAt: undefined },
        ]);
        await s.putMany([]);
        assert.equal((await s.list('cur|')).length, 2);
      });

      it('applies a key given twice in order (the last value wins)', async () => {
        const s = h.store;
        await s.putMany([{ key: 'dup', value: 'first' }, { key: 'dup', value: 'second' }]);
        assert.equal((await s.get('dup'))?.value, 'second');
      });

      it('is never seen half-applied by a concurrent reader', async () => {
        const s = h.store;
        const keys = Array.from({ length: 200 }, (_, i) => `cur|${String(i).padStart(3, '0')}`);
        await s.putMany(keys.map((key) => ({ key, value: 'round-0' })));
        for (let round = 1; round <= 5; round++) {
          const write = s.putMany(keys.map((key) => ({ key, value: `round-${round}` })));
          const reads = await Promise.all([s.list('cur|'), s.list('cur|'), s.list('cur|')]);
          await write;
          for (const seen of reads) {
            assert.equal(seen.length, keys.length);
            const rounds = new Set(seen.map((e) => e.value));
            assert.equal(rounds.size, 1, `a reader saw a mix of ${[...rounds].join(', ')}`);
          }
        }
      });
    });

    describe('writeBatch', () => {
      const fence = { key: 'fence|b', epoch: 1 };

      it('puts and deletes together: new keys at version 1, existing ones +1, deleted ones gone, absent deletes ignored', async () => {
        const s = h.store;
        await s.put('b|keep', 'old');
        await s.put('b|drop', 'x');
        await s.writeBatch(fence, { puts: [{ key: 'b|keep', value: 'new' }, { key: 'b|add', value: 'added' }], deletes: ['b|drop', 'b|never'] });
        assert.deepEqual(await s.list('b|'), [
          { key: 'b|add', value: 'added', version: 1, expiresAt: undefined },
          { key: 'b|keep', value: 'new', version: 2, expiresAt: undefined },
        ]);
        await s.writeBatch(fence, { puts: [], deletes: [] });
        assert.equal((await s.list('b|')).length, 2);
      });

      it('a key both put and deleted is put; a key put twice keeps the last value', async () => {
        const s = h.store;
        await s.put('b|k', 'v');
        await s.writeBatch(fence, { puts: [{ key: 'b|k', value: 'a' }, { key: 'b|k', value: 'b' }], deletes: ['b|k'] });
        assert.equal((await s.get('b|k'))?.value, 'b');
      });

      it('stores any text exactly: quotes, backslashes, braces, commas, NULL, empty, non-ASCII', async () => {
        const s = h.store;
        const values = ['{"a":"b\\"c"}', '\\', '"', '{}', 'a,b', 'NULL', '', 'ünï €', ' padded '];
        await s.writeBatch(fence, { puts: values.map((value, i) => ({ key: `b|odd|${i}`, value })), deletes: [] });
        assert.deepEqual((await s.list('b|odd|')).map((e) => e.value), values);
      });

      it('a deleted key written again starts at version 1', async () => {
        const s = h.store;
        await s.put('b|k', 'v');
        await s.put('b|k', 'w');
        await s.writeBatch(fence, { puts: [], deletes: ['b|k'] });
        await s.writeBatch(fence, { puts: [{ key: 'b|k', value: 'again' }], deletes: [] });
        assert.equal((await s.get('b|k'))?.version, 1);
      });

      it('is never seen half-applied by a concurrent reader', async () => {
        const s = h.store;
        const keys = Array.from({ length: 200 }, (_, i) => `b|${String(i).padStart(3, '0')}`);
        await s.writeBatch(fence, { puts: keys.map((key) => ({ key, value: 'v' })), deletes: [] });
        // Each round deletes the even keys and puts the odd ones back, or the other way round.
        for (let round = 1; round <= 6; round++) {
          const keep = keys.filter((_, i) => i % 2 === round % 2);
          const write = s.writeBatch(fence, { puts: keep.map((key) => ({ key, value: `round-${round}` })), deletes: keys.filter((k) => !keep.includes(k)) });
          const reads = await Promise.all([s.list('b|'), s.list('b|'), s.list('b|')]);
          await write;
          for (const seen of reads) {
            const rounds = new Set(seen.map((e) => e.value));
            assert.equal(rounds.size, 1, `a reader saw a mix of ${[...rounds].join(', ')}`);
            if (round > 1 || !rounds.has('v')) assert.equal(seen.length, keys.length / 2);
          }
        }
      });
    });

    describe('delete', () => {
      it('deletes unconditionally and says whether a key was there', async () => {
        const s = h.store;
        await s.put('k', 'v');
        assert.equal(await s.delete('k'), true);
        assert.equal(await s.get('k'), undefined);
        assert.equal(await s.delete('k'), false);
      });

      it('deletes with expectedVersion only when it matches', async () => {
        const s = h.store;
        await s.put('k', 'v');
        await s.put('k', 'w');
        assert.equal(await s.delete('k', 1), false);
        assert.equal((await s.get('k'))?.version, 2);
        assert.equal(await s.delete('k', 2), true);
        assert.equal(await s.get('k'), undefined);
      });

      it('ends the key: writing it again starts at version 1', async () => {
        const s = h.store;
        await s.put('k', 'v');
        await s.put('k', 'v');
        await s.delete('k');
        assert.equal(okVersion(await s.put('k', 'again', { expectedVersion: 0 })), 1);
      });
    });

    describe('clock and durability', () => {
      it('has a clock in ms since epoch that moves forward', async () => {
        const s = h.store;
        const a = await s.now();
        assert.ok(Number.isSafeInteger(a), `now() = ${a}`);
        assert.ok(Math.abs(a - Date.now()) < 60_000, 'the store clock is within a minute of this machine');
        await sleep(100);
        const b = await s.now();
        assert.ok(b - a >= 50, `clock moved ${b - a} ms in 100 ms`);
      });

      it('keeps entries, versions and leases across a reopen', async () => {
        await h.store.put('keep|a', 'A');
        await h.store.put('keep|a', 'A2');
        await h.store.put('keep|b', 'B', { ttlMs: 60_000 });
        const before = await h.store.list('keep|');
        const s = await h.reopen();
        assert.deepEqual(await s.list('keep|'), before);
        assert.equal(okVersion(await s.put('keep|a', 'A3', { expectedVersion: 2 })), 3);
      });
    });

    describe('ephemeral keys', () => {
      it('are live while their session lasts, with versions and leases like any key', async () => {
        const s = h.store;
        assert.equal(okVersion(await s.put('eph|a', 'A', { expectedVersion: 0, ephemeral: true, ttlMs: 60_000 })), 1);
        assert.equal(okVersion(await s.put('eph|a', 'A2', { expectedVersion: 1, ephemeral: true, ttlMs: 60_000 })), 2);
        assert.equal((await s.get('eph|a'))?.value, 'A2');
        assert.deepEqual((await s.list('eph|')).map((e) => e.key), ['eph|a']);
      });

      it('vanish when the session that wrote them ends; other keys stay', async () => {
        await h.store.put('eph|gone', 'x', { ephemeral: true });
        await h.store.put('eph|kept', 'y');
        const s = await h.reopen();
        assert.equal(await s.get('eph|gone'), undefined);
        assert.deepEqual((await s.list('eph|')).map((e) => e.key), ['eph|kept']);
        assert.equal(okVersion(await s.put('eph|gone', 'z', { expectedVersion: 0, ephemeral: true })) >= 1, true);
      });

      it('become ordinary keys when written again without the flag', async () => {
        await h.store.put('eph|p', 'x', { ephemeral: true });
        await h.store.put('eph|p', 'y');
        const s = await h.reopen();
        assert.equal((await s.get('eph|p'))?.value, 'y');
      });
    });
  });
}
