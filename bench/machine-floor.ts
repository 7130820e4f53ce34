import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'hdr-histogram-js';
import { markdownTable } from './markdown-table.js';

/** A W1 record in the journal: 256 B of payload and the framing around it. */
const RECORD_BYTES = 256 + 26;
const SYNC_SAMPLES = 2000;
const RTT_SAMPLES = 5000;
const LOOP_MESSAGES = 100_000;
/** Records per group commit seen in W1 (a few hundred to the whole window of 1,000 in flight). */
const BATCH_SIZES = [1, 64, 256, 1000];

export interface MachineFloor {
  fdatasync: { p50: number; p99: number };
  tcpRoundTrip: { p50: number; p99: number };
  /** Messages per second of a bare append + fdatasync loop, per batch size. */
  appendLoop: Map<number, number>;
}

function quantiles(samplesMs: number[]): { p50: number; p99: number } {
  const h = build({ numberOfSignificantValueDigits: 3 });
  for (const s of samplesMs) h.recordValue(Math.max(1, Math.round(s * 1000)));
  return { p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000 };
}

/** What one small append + fdatasync costs on this disk, ms. */
async function fdatasyncLatency(dir: string): Promise<{ p50: number; p99: number }> {
  const f = await open(join(dir, 'sync.log'), 'a');
  const record = Buffer.alloc(RECORD_BYTES, 1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < SYNC_SAMPLES; i++) {
      const t0 = performance.now();
      await f.write(record);
      await f.datasync();
      samples.push(performance.now() - t0);
    }
  } finally {
    await f.close();
  }
  return quantiles(samples);
}

/** Messages per second when every batch of `batch` records is one write and one fdatasync (the journal's floor). */
async function appendLoop(dir: string, batch: number): Promise<number> {
  const f = await open(join(dir, `loop-${batch}.log`), 'a');
  const chunk = Buffer.alloc(RECORD_BYTES * batch, 2);
  const rounds = Math.max(200, Math.ceil(LOOP_MESSAGES / batch));
  const t0 = performance.now();
  try {
    for (let i = 0; i < rounds; i++) {
      await f.write(chunk);
      await f.datasync();
    }
  } finally {
    await f.close();
  }
  return (rounds * batch) / ((performance.now() - t0) / 1000);
}

/** A 64-byte ping-pong between this process and a child Node process on loopback, ms. */
async function tcpRoundTrip(): Promise<{ p50: number; p99: number }> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  // The echo runs in its own process, as a hub does.
  server.close();
  const child = fork(new URL(import.meta.url), ['--echo', String(port)], { stdio: 'ignore' });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const ping = Buffer.alloc(64, 3);
  const samples: number[] = [];
  try {
    for (let i = 0; i < RTT_SAMPLES; i++) {
      const t0 = performance.now();
      socket.write(ping);
      let got = 0;
      await new Promise<void>((resolve) => {
        const onData = (d: Buffer): void => {
          got += d.length;
          if (got >= ping.length) {
            socket.off('data', onData);
            resolve();
          }
        };
        socket.on('data', onData);
      });
      samples.push(performance.now() - t0);
    }
  } finally {
    socket.destroy();
    child.kill();
  }
  return quantiles(samples);
}

export async function measureMachineFloor(): Promise<MachineFloor> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-floor-'));
  try {
    const fdatasync = await fdatasyncLatency(dir);
    const tcp = await tcpRoundTrip();
    const loop = new Map<number, number>();
    for (const b of BATCH_SIZES) loop.set(b, await appendLoop(dir, b));
    return { fdatasync, tcpRoundTrip: tcp, appendLoop: loop };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function floorTable(f: MachineFloor): string {
  const ms = (x: number): string => x.toFixed(3);
  const rows = [
    ['append 282 B + fdatasync, latency', `p50 ${ms(f.fdatasync.p50)} ms`, `p99 ${ms(f.fdatasync.p99)} ms`],
    ['TCP round trip between two Node processes, 64 B', `p50 ${ms(f.tcpRoundTrip.p50)} ms`, `p99 ${ms(f.tcpRoundTrip.p99)} ms`],
    ...[...f.appendLoop].map(([batch, rate]) => [`append + fdatasync loop, ${batch} × 282 B per write`, `${Math.round(rate).toLocaleString('en-US')} msgs/s`, '']),
  ];
  return markdownTable(['the machine alone', 'figure', ''], rows);
}

// The echo side of the round trip, when this file runs as the child.
if (process.argv[2] === '--echo') {
  const port = Number(process.argv[3]);
  const server = createServer((s) => {
    s.setNoDelay(true);
    s.pipe(s);
  });
  server.listen(port, '127.0.0.1', () => process.send?.('ready'));
}
