import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import type { LogRecord, TopicBatch } from '../src/store/message-log.js';
import { openPostgresStores } from '../src/store/postgres/open-postgres-stores.js';
import type { Durability } from '../src/store/stores.js';
import { startPostgres } from '../test/support/embedded-postgres.js';
import { markdownTable } from './markdown-table.js';

/** One measured case: appends of `batch` records per call, spread evenly over `topics` topics. */
export interface PostgresAppendRow {
  durability: Durability;
  batch: number;
  topics: number;
  records: number;
  seconds: number;
  recordsPerSec: number;
}

const RECORDS = 200_000;
const PAYLOAD_BYTES = 256;
const CASES: ReadonlyArray<{ batch: number; topics: number }> = [
  { batch: 1, topics: 1 },
  { batch: 100, topics: 1 },
  { batch: 1000, topics: 1 },
  // A group commit as the hub makes it: one call for many topics.
  { batch: 1000, topics: 100 },
];
const DURABILITIES: readonly Durability[] = ['fsync', 'process'];
/** A case stops early after this long, so single-record commits keep the whole run near 40 s. */
const CASE_BUDGET_MS = 4_000;

async function measure(url: string, schema: string, durability: Durability, batch: number, topicCount: number): Promise<PostgresAppendRow> {
  const stores = await openPostgresStores({ url, durability, schema });
  try {
    const topics = Array.from({ length: topicCount }, (_, i) => `bench.${i}`);
    for (const t of topics) await stores.log.claim(t, 1);
    const payload = Buffer.alloc(PAYLOAD_BYTES, 0x5a);
    const perTopic = batch / topicCount;
    let seq = 0;
    let stored = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(CASE_BUDGET_MS) * 1_000_000n;
    while (stored < RECORDS && process.hrtime.bigint() < deadline) {
      const timestamp = Date.now();
      const batches: TopicBatch[] = topics.map((topic) => {
        const records: LogRecord[] = [];
        for (let i = 1; i <= perTopic; i++) records.push({ seq: seq + i, timestamp, key: undefined, payload, producerId: undefined, producerSeq: 0 });
        return { topic, epoch: 1, records };
      });
      await stores.log.append(batches);
      seq += perTopic;
      stored += batch;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { durability, batch, topics: topicCount, records: stored, seconds, recordsPerSec: Math.round(stored / seconds) };
  } finally {
    await stores.close();
  }
}

/**
 * records/s of MessageLog.append on an embedded PostgreSQL (fsync on, 127.0.0.1),
 * 256-byte records, per durability, records per call and topics per call.
 * Each case runs on a fresh schema.
 */
export async function benchPostgresAppend(): Promise<PostgresAppendRow[]> {
  const server = await startPostgres();
  const admin = postgres(server.url, { max: 1, onnotice: () => undefined });
  try {
    const rows: PostgresAppendRow[] = [];
    let n = 0;
    for (const durability of DURABILITIES) {
      for (const c of CASES) {
        const schema = `bench_${++n}`;
        rows.push(await measure(server.url, schema, durability, c.batch, c.topics));
        await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      }
    }
    return rows;
  } finally {
    await admin.end();
    await server.stop();
  }
}

export function postgresAppendTable(rows: readonly PostgresAppendRow[]): string {
  const header = ['durability', 'records per call', 'topics per call', 'records', 'seconds', 'records/s'];
  return markdownTable(header, rows.map((r) => [
    r.durability, String(r.batch), String(r.topics), r.records.toLocaleString('en-US'), r.seconds.toFixed(2), r.recordsPerSec.toLocaleString('en-US'),
  ]));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchPostgresAppend();
  console.log(`store append: PostgreSQL MessageLog (embedded server), ${PAYLOAD_BYTES}-byte records, up to ${RECORDS.toLocaleString('en-US')} per case, ${CASE_BUDGET_MS / 1000} s at most per case`);
  console.log(postgresAppendTable(rows));
}
