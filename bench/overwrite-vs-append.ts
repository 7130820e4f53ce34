import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'hdr-histogram-js';

/**
 * Is a preallocated journal worth it? Small records (a W2 publish: 256 B and
 * its framing) written one at a time, each followed by an fdatasync (or not),
 * appended to a growing file or written over a zero-filled one: an append
 * changes the file's size, so its fdatasync also commits file-system
 * metadata; an overwrite does not.
 *
 *   node dist/bench/overwrite-vs-append.js [samples] [fsync|process] [dir]
 */
const RECORD_BYTES = 256 + 26;
const PREFILL_BYTES = 64 * 1024 * 1024;

async function run(dir: string, mode: 'append' | 'overwrite', samples: number, sync: boolean): Promise<string> {
  const path = join(dir, `${mode}.log`);
  const f = await open(path, mode === 'append' ? 'a' : 'w+');
  try {
    if (mode === 'overwrite') {
      const zeros = Buffer.alloc(1024 * 1024);
      for (let at = 0; at < PREFILL_BYTES; at += zeros.length) await f.write(zeros, 0, zeros.length, at);
      await f.datasync();
    }
    const record = Buffer.alloc(RECORD_BYTES, 1);
    const h = build({ numberOfSignificantValueDigits: 3 });
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      if (mode === 'append') await f.write(record);
      else await f.write(record, 0, RECORD_BYTES, i * RECORD_BYTES);
      if (sync) await f.datasync();
      h.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
    }
    const q = (p: number): string => (h.getValueAtPercentile(p) / 1000).toFixed(3);
    return `| ${mode} | ${sync ? 'fsync' : 'write only'} | ${q(50)} | ${q(99)} | ${q(99.9)} |`;
  } finally {
    await f.close();
  }
}

const samples = Number(process.argv[2] ?? 4000);
const sync = process.argv[3] !== 'process';
const dir = mkdtempSync(join(process.argv[4] ?? '.', 'overwrite-vs-append-'));
try {
  console.log('| file | per record | p50 ms | p99 ms | p99.9 ms |\n|---|---|--:|--:|--:|');
  // Two rounds, alternated, so a slow minute of the disk shows as a spread rather than as a difference.
  for (let round = 0; round < 2; round++) {
    for (const mode of ['append', 'overwrite'] as const) console.log(await run(dir, mode, samples, sync));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
