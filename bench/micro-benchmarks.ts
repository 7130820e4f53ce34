import { benchCodec } from './codec.js';
import { markdownTable } from './markdown-table.js';
import { benchStoreAppend } from './store-append.js';

/** Any list of flat records as a table, columns in the order of the first record's keys. */
function recordsTable(rows: readonly object[]): string {
  const header = Object.keys(rows[0] ?? {});
  const cell = (v: unknown): string => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v));
  return markdownTable(header, rows.map((r) => header.map((h) => cell((r as Record<string, unknown>)[h]))));
}

/** The micro-benchmarks of hot paths: the protocol codec and the SQLite log's append. */
export async function runMicroBenchmarks(): Promise<void> {
  console.log(`\n### Micro: protocol codec, 256 B payload (ops/s)\n\n${recordsTable(await benchCodec())}`);
  console.log(`\n### Micro: SQLite MessageLog.append, 256 B records\n\n${recordsTable(await benchStoreAppend())}`);
}
