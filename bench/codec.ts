import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { decodeBody } from '../src/protocol/decode.js';
import { encodeDeliver, encodePublish } from '../src/protocol/encode.js';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';

const PAYLOAD_BYTES = 256;
const RUN_MS = 500;
const LARGE_PAYLOAD_BYTES = 1024 * 1024;
const SOCKET_CHUNK_BYTES = 64 * 1024;

interface Case {
  op: string;
  payloadBytes: number;
  frameBytes: number;
  /** Operations between two clock reads: enough that reading the clock costs nothing. */
  batch: number;
  /** Returns a number the loop sums, so the work cannot be optimised away. */
  run: () => number;
}

/** Runs `op` in batches for about RUN_MS and returns ops/s. */
function measure({ run, batch }: Case): { opsPerSec: number; check: number } {
  for (let i = 0; i < batch * 10; i++) run(); // warm up the JIT
  let ops = 0;
  let check = 0;
  const start = process.hrtime.bigint();
  const stop = start + BigInt(RUN_MS) * 1_000_000n;
  let now = start;
  while (now < stop) {
    for (let i = 0; i < batch; i++) check += run();
    ops += batch;
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - start) / 1e9;
  return { opsPerSec: Math.round(ops / seconds), check };
}

/**
 * A large frame arriving the way a socket delivers it: the decoder's path
 * for frames that span chunks.
 */
function chunkedLargePublish(): Case {
  const frame = encodePublish(1, 'bench.large', Buffer.alloc(LARGE_PAYLOAD_BYTES, 0x62));
  const chunks: Buffer[] = [];
  for (let at = 0; at < frame.length; at += SOCKET_CHUNK_BYTES) chunks.push(frame.subarray(at, at + SOCKET_CHUNK_BYTES));
  let decoded = 0;
  const decoder = new FrameDecoder({ frame: () => { decoded++; }, badFrame: () => undefined, fatal: () => undefined }, frame.length);
  return {
    op: `FrameDecoder.push, PUBLISH in ${chunks.length} chunks`,
    payloadBytes: LARGE_PAYLOAD_BYTES,
    frameBytes: frame.length,
    batch: 10,
    run: () => {
      for (const c of chunks) decoder.push(c);
      return decoded;
    },
  };
}

/**
 * ops/s of the codec's hot paths (publish in, delivery out) with a 256-byte
 * payload, and of the stream decoder on a 1 MiB frame split like socket reads.
 */
export async function benchCodec(): Promise<Array<Record<string, string | number>>> {
  const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
  const topic = 'bench.orders';
  const publishFrame = encodePublish(1, topic, payload);
  const deliverFrame = encodeDeliver(1, 123_456, Date.now(), undefined, payload);
  const small = { payloadBytes: PAYLOAD_BYTES, batch: 1000 };
  const cases: Case[] = [
    { op: 'encodePublish', ...small, frameBytes: publishFrame.length, run: () => encodePublish(7, topic, payload).length },
    { op: 'decode PUBLISH', ...small, frameBytes: publishFrame.length, run: () => decodeBody(publishFrame[4]!, publishFrame, 5, publishFrame.length).type },
    { op: 'encodeDeliver', ...small, frameBytes: deliverFrame.length, run: () => encodeDeliver(1, 123_456, 1_700_000_000_000, undefined, payload).length },
    { op: 'decode DELIVER', ...small, frameBytes: deliverFrame.length, run: () => decodeBody(deliverFrame[4]!, deliverFrame, 5, deliverFrame.length).type },
    chunkedLargePublish(),
  ];
  const rows: Array<Record<string, string | number>> = [];
  for (const c of cases) {
    await yieldToLoop();
    const r = measure(c);
    if (r.check === 0) throw new Error(`${c.op} produced nothing`);
    rows.push({
      op: c.op,
      'payload bytes': c.payloadBytes,
      'frame bytes': c.frameBytes,
      'ops/s': r.opsPerSec,
      'ns/op': Math.round(1e9 / r.opsPerSec),
      'MB/s': Math.round((r.opsPerSec * c.payloadBytes) / 1e6),
    });
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`codec, Node ${process.version}, ${RUN_MS} ms per operation`);
  console.table(await benchCodec());
}
