import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LogRecord } from '../src/store/message-log.js';
import { openSqliteStores } from '../src/store/sqlite/open-sqlite-stores.js';
import type { Durability } from '../src/store/stores.js';

/** One measured case: appends of `batch` records per call to one topic of the embedded SQLite log. */
export interface Row {
  durability: Durability;
  batch: number;
  records: number;
  seconds: number;
  recordsPerSec: number;
}

const RECORDS = 200_000;
const PAYLOAD_BYTES = 256;
const BATCHES = [1, 100, 1000] as const;
const DURABILITIES: readonly Durability[] = ['fsync', 'process'];
/** A case stops early after this long, so fsync of single records fits the ~30 s budget on slow disks. */
const CASE_BUDGET_MS = 4_000;

async function measure(durability: Durability, batch: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-bench-'));
  const stores = openSqliteStores({ path: join(dir, 'corral.db'), durability });
  try {
    await stores.log.claim('bench', 1);
    const payload = Buffer.alloc(PAYLOAD_BYTES, 0x5a);
    let seq = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(CASE_BUDGET_MS) * 1_000_000n;
    while (seq < RECORDS && process.hrtime.bigint() < deadline) {
      const records: LogRecord[] = [];
      const timestamp = Date.now();
      for (let i = 0; i < batch && seq < RECORDS; i++) {
        records.push({ seq: ++seq, timestamp, key: undefined, payload, producerId: undefined, producerSeq: 0 });
      }
      await stores.log.append([{ topic: 'bench', epoch: 1, records }]);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { durability, batch, records: seq, seconds, recordsPerSec: Math.round(seq / seconds) };
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** records/s of MessageLog.append on SQLite, 256-byte records, per durability and batch size. */
export async function benchStoreAppend(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const durability of DURABILITIES) {
    for (const batch of BATCHES) rows.push(await measure(durability, batch));
  }
  return rows;
}

function printTable(rows: readonly Row[]): void {
  const header = ['durability', 'batch', 'records', 'seconds', 'records/s'];
  const cells = rows.map((r) => [r.durability, String(r.batch), String(r.records), r.seconds.toFixed(2), r.recordsPerSec.toLocaleString('en-US')]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  console.log(`store append: SQLite MessageLog, ${PAYLOAD_BYTES}-byte records, up to ${RECORDS.toLocaleString('en-US')} per case`);
  console.log(line(header));
  for (const c of cells) console.log(line(c));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await benchStoreAppend());
}
