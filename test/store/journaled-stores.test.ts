import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { CorralError, isCorralError } from '../../src/protocol/corral-error.js';
import { runFencingConformance } from './conformance/fencing-conformance.js';
import { runMessageLogConformance } from './conformance/message-log-conformance.js';
import type { StoreHarness } from './conformance/store-harness.js';
import { decodeEntryAt } from '../../src/store/journal/journal-entry.js';
import type { JournaledLogOptions } from '../../src/store/journal/journaled-log.js';
import { withJournal } from '../../src/store/journal/with-journal.js';
import type { LogRecord } from '../../src/store/message-log.js';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.js';
import type { Durability, Stores } from '../../src/store/stores.js';
import { eventually } from '../support/eventually.js';
import { tempDir } from '../support/hub-process.js';
import { killAfterReport } from '../support/kill-after-report.js';
import { wrapAppends } from '../support/wrap-appends.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = tempDir('corral-journal-');
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Flushing = Pick<JournaledLogOptions, 'flushIntervalMs' | 'flushRecords'>;
/** The store behind is written only when a caller needs it: reads are served from the journal's records. */
const NEVER_FLUSH: Flushing = { flushIntervalMs: 1e9, flushRecords: 1e9 };

async function openJournaled(dir: string, durability: Durability, flushing: Flushing = {}): Promise<Stores> {
  return withJournal(openSqliteStores({ path: join(dir, 'corral.db'), durability }), { dir: join(dir, 'journal'), durability, ...flushing });
}

async function journaledHarness<T>(pick: (s: Stores) => T, durability: Durability, flushing: Flushing): Promise<StoreHarness<T>> {
  const dir = freshDir();
  let stores = await openJournaled(dir, durability, flushing);
  const harness: StoreHarness<T> = {
    store: pick(stores),
    async reopen() {
      await stores.close();
      stores = await openJournaled(dir, durability, flushing);
      harness.store = pick(stores);
      return harness.store;
    },
    async destroy() {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

for (const durability of ['fsync', 'process'] as const) {
  runMessageLogConformance(`journal over sqlite, durability ${durability}`, () => journaledHarness((s) => s.log, durability, {}));
  runFencingConformance(`journal over sqlite, durability ${durability}`, () => journaledHarness((s) => s, durability, {}));
}
runMessageLogConformance('journal over sqlite, records held in the journal', () => journaledHarness((s) => s.log, 'process', NEVER_FLUSH));
runFencingConformance('journal over sqlite, records held in the journal', () => journaledHarness((s) => s, 'process', NEVER_FLUSH));

function record(seq: number, payloadBytes: number): LogRecord {
  return { seq, timestamp: 1_700_000_000_000 + seq, key: undefined, payload: Buffer.alloc(payloadBytes, seq % 251), producerId: seq % 2 ? 'producer-a' : undefined, producerSeq: seq };
}

/**
 * A child process appends `entries` journal entries (one per append, sizes
 * from `recordsPerEntry`) with the store behind never written, then is
 * killed with SIGKILL: the journal is all there is.
 */
async function crashAfterAppends(dir: string, durability: Durability, recordsPerEntry: number[]): Promise<void> {
  const stores = new URL('../../src/store/sqlite/open-sqlite-stores.js', import.meta.url).href;
  const journal = new URL('../../src/store/journal/with-journal.js', import.meta.url).href;
  const script = `
    const { openSqliteStores } = await import(${JSON.stringify(stores)});
    const { withJournal } = await import(${JSON.stringify(journal)});
    const dir = ${JSON.stringify(dir)};
    const s = await withJournal(openSqliteStores({ path: dir + '/corral.db', durability: '${durability}' }),
      { dir: dir + '/journal', durability: '${durability}', flushIntervalMs: 1e9, flushRecords: 1e9 });
    await s.log.claim('t', 3);
    let seq = 0;
    for (const n of ${JSON.stringify(recordsPerEntry)}) {
      const records = Array.from({ length: n }, () => { seq++; return {
        seq, timestamp: 1700000000000 + seq, key: seq % 3 ? undefined : Buffer.from([seq % 256]),
        payload: Buffer.alloc(seq % 7 === 0 ? 0 : 20, seq % 251), producerId: seq % 2 ? 'producer-a' : undefined, producerSeq: seq };
      });
      await s.log.append([{ topic: 't', epoch: 3, records }]);
    }
    process.stdout.write('appended\\n');
    setInterval(() => {}, 1000);
  `;
  await killAfterReport(script);
}

function onlySegment(dir: string): string {
  const names = readdirSync(join(dir, 'journal')).filter((n) => n.endsWith('.log'));
  assert.equal(names.length, 1, `segments: ${names.join(', ')}`);
  return join(dir, 'journal', names[0]!);
}

/** Byte offsets where each entry of a segment starts, and its end. */
function entryOffsets(segment: string): number[] {
  const bytes = readFileSync(segment);
  const starts = [0];
  for (;;) {
    const r = decodeEntryAt(bytes, starts[starts.length - 1]!);
    if ('defect' in r) break;
    starts.push(r.next);
  }
  assert.equal(starts[starts.length - 1], bytes.length, 'the segment holds whole entries only');
  return starts;
}

async function storedSeqs(dir: string, durability: Durability): Promise<{ seqs: number[]; lastSeq: number | undefined }> {
  const stores = await openJournaled(dir, durability);
  try {
    const recs = await stores.log.read('t', 1, { maxRecords: 1e6, maxBytes: 1e9 });
    return { seqs: recs.map((r) => r.seq), lastSeq: (await stores.log.bounds('t'))?.lastSeq };
  } finally {
    await stores.close();
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe('journal: crash and recovery', () => {
  for (const durability of ['fsync', 'process'] as const) {
    it(`replays what a SIGKILL left only in the journal, exactly once (durability ${durability})`, async () => {
      const dir = freshDir();
      await crashAfterAppends(dir, durability, [5, 40, 1, 17]);
      assert.deepEqual(await storedSeqs(dir, durability), { seqs: range(1, 63), lastSeq: 63 });
      // Replayed into the store and retired: a second start finds the same, not twice.
      assert.deepEqual(readdirSync(join(dir, 'journal')).filter((n) => n.endsWith('.log')), []);
      assert.deepEqual(await storedSeqs(dir, durability), { seqs: range(1, 63), lastSeq: 63 });
    });
  }

  it('cuts a last entry torn at any byte and keeps every whole entry before it', async () => {
    const crashed = freshDir();
    await crashAfterAppends(crashed, 'process', [3, 2, 1]);
    const starts = entryOffsets(onlySegment(crashed));
    const lastStart = starts[starts.length - 2]!;
    const end = starts[starts.length - 1]!;
    for (let cut = lastStart; cut < end; cut++) {
      const dir = freshDir();
      cpSync(crashed, dir, { recursive: true });
      truncateSync(onlySegment(dir), cut);
      assert.deepEqual(await storedSeqs(dir, 'process'), { seqs: range(1, 5), lastSeq: 5 }, `journal cut at byte ${cut} of ${end}`);
      // The next append continues right after the cut.
      const stores = await openJournaled(dir, 'process');
      assert.deepEqual(await stores.log.append([{ topic: 't', epoch: 3, records: [record(6, 4)] }]), [true]);
      await stores.close();
      assert.deepEqual(await storedSeqs(dir, 'process'), { seqs: range(1, 6), lastSeq: 6 });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuts a last entry whose bytes were damaged (checksum), never misreads it', async () => {
    const dir = freshDir();
    await crashAfterAppends(dir, 'process', [4, 4]);
    const segment = onlySegment(dir);
    const starts = entryOffsets(segment);
    const bytes = readFileSync(segment);
    const inLast = starts[1]! + 30;
    bytes[inLast] = bytes[inLast]! ^ 0xff;
    writeFileSync(segment, bytes);
    assert.deepEqual(await storedSeqs(dir, 'process'), { seqs: range(1, 4), lastSeq: 4 });
  });

  it('refuses to start when a segment other than the last is damaged', async () => {
    const dir = freshDir();
    await crashAfterAppends(dir, 'process', [4, 4]);
    const segment = onlySegment(dir);
    const starts = entryOffsets(segment);
    const bytes = readFileSync(segment);
    // Split into two segments, the first with a damaged entry.
    writeFileSync(segment, bytes.subarray(0, starts[1]!));
    const second = bytes.subarray(starts[1]!);
    writeFileSync(join(dir, 'journal', 'segment-9999999999999999.log'), second);
    const damaged = readFileSync(segment);
    damaged[20] = damaged[20]! ^ 0xff;
    writeFileSync(segment, damaged);
    await assert.rejects(openJournaled(dir, 'process'), (err: unknown) => isCorralError(err, 'STORE_UNAVAILABLE') && /damaged/.test((err as Error).message));
  });

  it('seals large segments and deletes them once the store holds them', async () => {
    const dir = freshDir();
    const stores = await withJournal(openSqliteStores({ path: join(dir, 'corral.db'), durability: 'process' }),
      { dir: join(dir, 'journal'), durability: 'process', segmentBytes: 4096, flushIntervalMs: 1 });
    await stores.log.claim('t', 1);
    for (let i = 0; i < 50; i++) await stores.log.append([{ topic: 't', epoch: 1, records: [record(i + 1, 500)] }]);
    await stores.log.bounds('t'); // waits until the store holds everything
    const segments = readdirSync(join(dir, 'journal')).filter((n) => n.endsWith('.log'));
    assert.ok(segments.length <= 2, `segments left: ${segments.length}`);
    await stores.close();
    assert.deepEqual(readdirSync(join(dir, 'journal')).filter((n) => n.endsWith('.log')), [], 'a clean close leaves no journal');
  });

  it('writes a large backlog behind in transactions of at most 1,000 records, each topic in order and once', async () => {
    const dir = freshDir();
    const sqlite = openSqliteStores({ path: join(dir, 'corral.db'), durability: 'process' });
    const transactions: number[] = [];
    const log = wrapAppends(sqlite.log, (batches, real) => {
      transactions.push(batches.reduce((n, b) => n + b.records.length, 0));
      return real(batches);
    });
    const stores = await withJournal({ ...sqlite, log }, { dir: join(dir, 'journal'), durability: 'process', ...NEVER_FLUSH });
    try {
      const sizes = new Map<string, number>([['big', 2500], ...Array.from({ length: 300 }, (_, i) => [`small.${i}`, 1 + (i % 7)] as const)]);
      for (const topic of sizes.keys()) await stores.log.claim(topic, 1);
      for (const [topic, n] of sizes) {
        await stores.log.append([{ topic, epoch: 1, records: Array.from({ length: n }, (_, i) => record(i + 1, 8)) }]);
      }
      await stores.log.topics(); // flushes everything
      const total = [...sizes.values()].reduce((a, b) => a + b, 0);
      assert.equal(transactions.reduce((a, b) => a + b, 0), total, 'every record written behind once');
      assert.ok(transactions.every((n) => n <= 1000), `transactions of ${transactions.join(', ')} records`);
      assert.ok(transactions.length >= Math.ceil(total / 1000));
      for (const [topic, n] of sizes) {
        const seqs = (await sqlite.log.read(topic, 1, { maxRecords: 10_000, maxBytes: 1e9 })).map((r) => r.seq);
        assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => i + 1), topic);
      }
    } finally {
      await stores.close();
    }
  });

  it('keeps serving while the store behind fails, says so once, and catches up when it works again', async () => {
    const dir = freshDir();
    const sqlite = openSqliteStores({ path: join(dir, 'corral.db'), durability: 'process' });
    let failures = 3;
    const log = wrapAppends(sqlite.log, async (batches, real) => {
      if (failures-- > 0) throw new CorralError('STORE_UNAVAILABLE', 'SQLite: disk I/O error');
      return real(batches);
    });
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as { level: number; msg: string }); } });
    const stores = await withJournal({ ...sqlite, log }, { dir: join(dir, 'journal'), durability: 'process', flushIntervalMs: 1, logger });
    try {
      await stores.log.claim('t', 1);
      for (let i = 1; i <= 3; i++) await stores.log.append([{ topic: 't', epoch: 1, records: [record(i, 10)] }]);
      // Served from the journal's records while the store fails.
      assert.deepEqual((await stores.log.read('t', 1, { maxRecords: 10, maxBytes: 1e6 })).map((r) => r.seq), [1, 2, 3]);
      await eventually(() => assert.ok(failures < 0, 'the store behind was tried until it worked'));
      await eventually(async () => assert.deepEqual(await sqlite.log.usage('t'), { records: 3, bytes: 30 }));
      const said = lines.filter((l) => l.msg.startsWith('journal: writing behind'));
      assert.deepEqual(said.map((l) => l.level), [50, 30], said.map((l) => l.msg).join(' / '));
    } finally {
      await stores.close();
    }
  });
});
