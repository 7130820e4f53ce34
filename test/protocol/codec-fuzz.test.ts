import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorralError } from '../../src/protocol/corral-error.js';
import { decodeBody } from '../../src/protocol/decode.js';
import { encodeFrame } from '../../src/protocol/encode.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { FrameDecoder, type FrameSink } from '../../src/protocol/frame-decoder.js';
import { FrameType, SERVICE_RANGES } from '../../src/protocol/frame-type.js';
import type { Frame } from '../../src/protocol/frames.js';
import { Rng } from '../support/rng.js';
import { rawFrame } from './recording-sink.js';
import { sampleFrames } from './sample-frames.js';

/**
 * Seeded fuzzing of the decoder. Every case derives its own seed from
 * CORRAL_FUZZ_SEED (fixed by default); the suite's name shows the base seed
 * and a failure names its case seed, and the same base seed replays the same
 * cases. The iteration counts keep the file under about 2 s of CPU.
 */
const BASE_SEED = Number(process.env.CORRAL_FUZZ_SEED ?? 0xc0441);
const MAX_FRAME = 4096;

function caseSeed(kind: number, i: number): number {
  return (BASE_SEED ^ Math.imul(kind + 1, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
}

type Outcome = { frames: Frame[]; errors: CorralError[]; calls: string[]; fatal: boolean };

/**
 * Decodes `input` (in random chunks when `chunking` is given, else in one)
 * and checks what must hold for any input:
 * nothing escapes except through the sink, every error is a CorralError with
 * a known code, nothing follows a fatal error, and each call consumed at
 * least one frame header (so the decoder cannot emit without progress).
 */
function decodeChecked(input: Buffer, chunking: Rng | undefined, where: string): Outcome {
  const out: Outcome = { frames: [], errors: [], calls: [], fatal: false };
  const noteError = (err: unknown, kind: string, corr?: number): void => {
    assert.ok(!out.fatal, `${where}: ${kind} after fatal`);
    assert.ok(err instanceof CorralError, `${where}: ${kind} got ${String(err)}`);
    assert.ok(Object.hasOwn(ERROR_CODES, err.code), `${where}: unknown code ${err.code}`);
    out.errors.push(err);
    out.calls.push(corr === undefined ? `${kind} ${err.code}` : `${kind} ${err.code} ${corr}`);
  };
  const sink: FrameSink = {
    frame: (f) => {
      assert.ok(!out.fatal, `${where}: frame after fatal`);
      out.frames.push(f);
      out.calls.push(`frame ${f.type}`);
    },
    badFrame: (err, corr) => noteError(err, 'badFrame', corr),
    fatal: (err) => { noteError(err, 'fatal'); out.fatal = true; },
  };
  const decoder = new FrameDecoder(sink, MAX_FRAME);
  let pos = 0;
  while (pos < input.length) {
    const n = chunking ? 1 + chunking.int(Math.min(input.length - pos, 300)) : input.length;
    try {
      decoder.push(input.subarray(pos, pos + n));
    } catch (err) {
      assert.fail(`${where}: push threw ${String(err)}`);
    }
    pos += n;
  }
  assert.ok(out.calls.length <= Math.floor(input.length / 5) + 1, `${where}: ${out.calls.length} sink calls from ${input.length} bytes`);
  return out;
}

/** What the decoder accepts re-encodes to a frame that decodes the same. */
function assertReencodes(frames: readonly Frame[], where: string): void {
  for (const f of frames) {
    const again = encodeFrame(f);
    assert.deepEqual(decodeBody(again[4]!, again, 5, again.length), f, `${where}: re-encoding type 0x${f.type.toString(16)}`);
  }
}

const CORE_TYPES: readonly number[] = Object.values(FrameType);
const INTERESTING_U32 = [0, 1, 2, 4, 0x7f, 0xff, 0xffff, 0x10000, 0x1fffff, 0x200000, 0x7fffffff, 0xfffffffe, 0xffffffff];

/** One random change: overwrite, boundary value, insert, delete, duplicate or truncate. */
function mutate(buf: Buffer, rng: Rng, from: number, to: number): Buffer {
  const at = from + rng.int(Math.max(1, to - from));
  switch (rng.int(6)) {
    case 0: {
      const b = Buffer.from(buf);
      if (at < b.length) b[at] = rng.int(256);
      return b;
    }
    case 1: {
      const b = Buffer.from(buf);
      if (at + 4 <= to) b.writeUInt32BE(rng.pick(INTERESTING_U32), at);
      return b;
    }
    case 2: return Buffer.concat([buf.subarray(0, at), rng.bytes(1 + rng.int(8)), buf.subarray(at)]);
    case 3: return Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + rng.int(8))]);
    case 4: return Buffer.concat([buf.subarray(0, at), buf.subarray(from, at), buf.subarray(at)]);
    default: return buf.subarray(0, at);
  }
}

describe(`codec fuzz (seed ${BASE_SEED}; set CORRAL_FUZZ_SEED to change it)`, () => {
  const samples = sampleFrames();

  it('random bytes: only sink calls, only known error codes, no output after fatal', () => {
    for (let i = 0; i < 8000; i++) {
      const rng = new Rng(caseSeed(0, i));
      const input = rng.bytes(rng.int(600));
      // Small length prefixes now and then, or nearly every input is one oversize frame.
      if (input.length >= 4 && rng.int(2) === 0) input.writeUInt32BE(rng.int(64), 0);
      decodeChecked(input, rng, `random bytes, case seed ${rng.seed}`);
    }
  });

  it('well-framed frames of random types and bodies: every frame is decoded or refused, and the stream stays in sync [P-2.2]', () => {
    const allowed = new Set(['BAD_FRAME', 'UNKNOWN_FRAME_TYPE', 'INVALID_ARGUMENT']);
    const serviceTypes = SERVICE_RANGES.flatMap((r) => [r.first, r.last]);
    for (let i = 0; i < 6000; i++) {
      const rng = new Rng(caseSeed(1, i));
      const count = 1 + rng.int(12);
      const parts: Buffer[] = [];
      for (let n = 0; n < count; n++) {
        const type = rng.int(4) === 0 ? rng.int(256) : rng.int(5) === 0 ? rng.pick(serviceTypes) : rng.pick(CORE_TYPES);
        parts.push(rawFrame(type, rng.bytes(rng.int(48))));
      }
      const where = `random bodies, case seed ${rng.seed}`;
      const got = decodeChecked(Buffer.concat(parts), rng, where);
      assert.equal(got.fatal, false, where);
      assert.equal(got.calls.length, count, `${where}: one sink call per frame`);
      for (const e of got.errors) assert.ok(allowed.has(e.code), `${where}: ${e.code}`);
      assertReencodes(got.frames, where);
    }
  });

  it('valid frames with mutated bodies: one sink call per frame, whatever the body [P-2.2]', () => {
    for (let i = 0; i < 5000; i++) {
      const rng = new Rng(caseSeed(2, i));
      const where = `body mutations, case seed ${rng.seed}`;
      const frames = Array.from({ length: 1 + rng.int(8) }, () => {
        const whole = encodeFrame(rng.pick(samples));
        let body: Buffer = whole.subarray(5);
        for (let m = 1 + rng.int(3); m > 0; m--) body = mutate(body, rng, 0, body.length);
        return rawFrame(whole[4]!, body);
      });
      const got = decodeChecked(Buffer.concat(frames), rng, where);
      assert.equal(got.fatal, false, where);
      assert.equal(got.calls.length, frames.length, `${where}: one sink call per frame`);
      assertReencodes(got.frames, where);
    }
  });

  it('valid streams mutated anywhere (length prefixes included): decodes the same however the input is chunked', () => {
    for (let i = 0; i < 4000; i++) {
      const rng = new Rng(caseSeed(3, i));
      const where = `stream mutations, case seed ${rng.seed}`;
      let input: Buffer = Buffer.concat(Array.from({ length: 1 + rng.int(8) }, () => encodeFrame(rng.pick(samples))));
      for (let m = 1 + rng.int(4); m > 0; m--) input = mutate(input, rng, 0, input.length);
      const chunked = decodeChecked(input, rng, where);
      const whole = decodeChecked(input, undefined, `${where} (one chunk)`);
      assert.deepEqual(chunked.calls, whole.calls, where);
      assert.deepEqual(chunked.frames, whole.frames, where);
      assertReencodes(chunked.frames, where);
    }
  });
});
