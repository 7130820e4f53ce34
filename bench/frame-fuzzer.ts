import { FrameType, SERVICE_RANGES } from '../src/protocol/frame-type.js';
import { DEDUP_UNKNOWN_FEATURE, PROTOCOL_VERSION } from '../src/protocol/frames.js';
import { Rng } from '../test/support/rng.js';

/**
 * One field of a frame body, as the wire carries it [P-2.2]. Strings and
 * byte strings are kept as bytes so a mutation can make them invalid UTF-8
 * or give them a length prefix that lies.
 */
type Field =
  | { kind: 'u8' | 'u16' | 'u32' | 'u64'; value: number }
  | { kind: 'str'; value: Buffer; claimed?: number }
  | { kind: 'bytes'; value: Buffer; claimed?: number }
  /** Absent (0xffffffff) when `value` is undefined. */
  | { kind: 'optBytes'; value: Buffer | undefined; claimed?: number }
  | { kind: 'strList'; value: Buffer[]; claimed?: number }
  /** Bytes without a length prefix: the rest of a service frame's body. */
  | { kind: 'raw'; value: Buffer };

export interface FuzzedFrame {
  bytes: Buffer;
  /** What was made, e.g. `PUBLISH topic=pipe` or `random bytes`: the error tallies and a replay name it. */
  label: string;
  /**
   * The hub can no longer tell where the next frame starts (a length prefix
   * that lies, bytes with no framing): nothing more is sent on the connection.
   */
  desyncs: boolean;
}

const U_MAX = { u8: 0xff, u16: 0xffff, u32: 0xffffffff, u64: Number.MAX_SAFE_INTEGER } as const;
/** Topics and subscriptions a well-behaved client could use: most frames should reach past name checks. */
const TOPICS = ['fuzz.a', 'fuzz.b', 'fuzz/c:1', 'fuzz-d'];
const SUBSCRIPTIONS = ['s1', 's2', 'watch'];
const QUERY_KINDS = ['stats', 'topics', 'hubs', 'dataset', 'counters', 'gate', 'nonsense'];
/** Resource kinds of the services a hub runs [P-11.2], plus one nobody owns. */
const RESOURCE_KINDS = ['sync', 'counters', 'gate', 'clock', 'naming', 'nope'];
const PRODUCERS = ['fuzz-producer-1', 'fuzz-producer-2'];
/** Odd strings: empty, separator, NUL, multi-byte, outside the name alphabet. */
const ODD_STRINGS = ['', '|', '||', 'a|b', 'sync|', '|x', '\u0000', 'Zürich 東京 🐄', ' ', '*', '#', '..', '/', 'a'.repeat(256)];
/** Byte sequences that are not UTF-8: a lone continuation byte, an overlong NUL, a truncated 4-byte sequence, a surrogate. */
const INVALID_UTF8 = [Buffer.from([0x80]), Buffer.from([0xc0, 0x80]), Buffer.from([0xf0, 0x9f, 0x90]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff, 0xfe])];

/** The features a fuzzing connection asks for: every service, so service frames reach their service. */
export const FUZZ_FEATURES = [...SERVICE_RANGES.map((r) => r.service), DEDUP_UNKNOWN_FEATURE];

const u8 = (value: number): Field => ({ kind: 'u8', value });
const u16 = (value: number): Field => ({ kind: 'u16', value });
const u32 = (value: number): Field => ({ kind: 'u32', value });
const u64 = (value: number): Field => ({ kind: 'u64', value });
const str = (s: string): Field => ({ kind: 'str', value: Buffer.from(s) });
const bytes = (b: Buffer): Field => ({ kind: 'bytes', value: b });

function fieldSize(f: Field): number {
  switch (f.kind) {
    case 'u8': return 1;
    case 'u16': return 2;
    case 'u32': return 4;
    case 'u64': return 8;
    case 'str': return 2 + f.value.length;
    case 'bytes': return 4 + f.value.length;
    case 'optBytes': return 4 + (f.value?.length ?? 0);
    case 'strList': return 1 + f.value.reduce((n, s) => n + 2 + s.length, 0);
    case 'raw': return f.value.length;
  }
}

/** Writes the fields as the encoder would, except that a `claimed` length is written in place of the true one. */
function encodeFields(type: number, fields: readonly Field[]): Buffer {
  const body = fields.reduce((n, f) => n + fieldSize(f), 0);
  const buf = Buffer.alloc(5 + body);
  buf.writeUInt32BE(1 + body, 0);
  buf[4] = type;
  let pos = 5;
  for (const f of fields) {
    switch (f.kind) {
      case 'u8': buf[pos] = f.value & 0xff; pos += 1; break;
      case 'u16': pos = buf.writeUInt16BE(f.value & 0xffff, pos); break;
      case 'u32': pos = buf.writeUInt32BE(f.value >>> 0, pos); break;
      // Written as two halves so a mutation can set the high word past 2^53 (the reader refuses it).
      case 'u64': pos = buf.writeUInt32BE(Math.floor(f.value / 0x1_0000_0000) >>> 0, pos); pos = buf.writeUInt32BE(f.value >>> 0, pos); break;
      case 'str': pos = buf.writeUInt16BE((f.claimed ?? f.value.length) & 0xffff, pos); pos += f.value.copy(buf, pos); break;
      case 'bytes': pos = buf.writeUInt32BE((f.claimed ?? f.value.length) >>> 0, pos); pos += f.value.copy(buf, pos); break;
      case 'optBytes':
        pos = buf.writeUInt32BE((f.claimed ?? (f.value === undefined ? 0xffffffff : f.value.length)) >>> 0, pos);
        if (f.value) pos += f.value.copy(buf, pos);
        break;
      case 'strList':
        buf[pos++] = (f.claimed ?? f.value.length) & 0xff;
        for (const s of f.value) { pos = buf.writeUInt16BE(s.length, pos); pos += s.copy(buf, pos); }
        break;
      case 'raw': pos += f.value.copy(buf, pos); break;
    }
  }
  return buf;
}

/**
 * A seeded, structure-aware generator of protocol frames for fuzzing a hub:
 * mostly well-formed frames of every core type and every service range with
 * one field mutated (boundary numbers, empty, huge, invalid-UTF-8 or
 * `|`-containing strings, length prefixes that lie), some left intact so
 * state builds up (topics, subscriptions, credit), some truncated or padded,
 * and some plain random bytes. The same seed yields the same frames.
 */
export class FrameFuzzer {
  private readonly rng: Rng;

  constructor(seed: number, private readonly maxPayload = 4096) {
    this.rng = new Rng(seed);
  }

  next(): FuzzedFrame {
    const roll = this.rng.int(100);
    if (roll < 1) return { bytes: this.rng.bytes(this.rng.between(1, 64)), label: 'random bytes', desyncs: true };
    if (roll < 8) {
      // A well-framed body of random bytes under a random type: the body decoders see noise.
      const body = this.rng.bytes(this.rng.int(200));
      const head = Buffer.alloc(5);
      head.writeUInt32BE(body.length + 1, 0);
      head[4] = this.rng.between(0, 255);
      return { bytes: Buffer.concat([head, body]), label: `type 0x${head[4]!.toString(16)} random body`, desyncs: false };
    }
    const { name, type, fields } = this.wellFormed();
    if (roll < 25) return { bytes: encodeFields(type, fields), label: `${name} intact`, desyncs: false };
    if (roll < 85 && fields.length > 0) {
      const i = this.rng.int(fields.length);
      const how = this.mutate(fields[i]!);
      return { bytes: encodeFields(type, fields), label: `${name} field ${i} ${how}`, desyncs: false };
    }
    return this.framingFault(name, encodeFields(type, fields));
  }

  /** A truncated or padded body (the length prefix adjusted, so the stream stays in sync), or a length prefix that lies. */
  private framingFault(name: string, whole: Buffer): FuzzedFrame {
    // A lying length prefix ends the connection's usefulness, so it is the rarest fault.
    switch (this.rng.pick([0, 0, 0, 1, 1, 1, 2, 3, 3])) {
      case 0: {
        if (whole.length <= 5) break;
        const cut = Buffer.from(whole.subarray(0, this.rng.between(5, whole.length - 1)));
        cut.writeUInt32BE(cut.length - 4, 0);
        return { bytes: cut, label: `${name} truncated`, desyncs: false };
      }
      case 1: {
        const long = Buffer.concat([whole, this.rng.bytes(this.rng.between(1, 64))]);
        long.writeUInt32BE(long.length - 4, 0);
        return { bytes: long, label: `${name} trailing bytes`, desyncs: false };
      }
      case 2: {
        const lie = Buffer.from(whole);
        lie.writeUInt32BE(this.rng.pick([0, 1, whole.length - 5, whole.length + this.rng.between(1, 100), 0xffffffff]) >>> 0, 0);
        return { bytes: lie, label: `${name} length prefix lies`, desyncs: true };
      }
      default: break;
    }
    const other = Buffer.from(whole);
    other[4] = this.rng.between(0, 255);
    return { bytes: other, label: `${name} retyped 0x${other[4]!.toString(16)}`, desyncs: false };
  }

  /** Mutates one field in place; returns what it did, for the label. */
  private mutate(f: Field): string {
    const rng = this.rng;
    switch (f.kind) {
      case 'u8': case 'u16': case 'u32': case 'u64': {
        const max = U_MAX[f.kind];
        const choices = [0, 1, max, max - 1, rng.between(0, Math.min(max, 0xffffffff))];
        // Past 2^53-1: the reader must refuse it rather than round.
        if (f.kind === 'u64') choices.push(2 ** 53, 0xffffffff * 0x1_0000_0000);
        f.value = rng.pick(choices);
        return `=${f.value}`;
      }
      case 'str': {
        switch (rng.int(6)) {
          case 0: f.value = Buffer.alloc(0); return 'empty';
          case 1: f.value = Buffer.alloc(rng.pick([256, 4096, 0xffff]), 0x61); return `huge ${f.value.length}`;
          case 2: f.value = Buffer.concat([f.value, rng.pick(INVALID_UTF8)]); return 'invalid utf-8';
          case 3: f.value = Buffer.from(rng.pick(ODD_STRINGS)); return 'odd string';
          case 4: f.value = Buffer.from(`${f.value.toString('latin1')}|${f.value.toString('latin1')}`, 'latin1'); return 'pipe';
          default: f.claimed = rng.pick([0, f.value.length + 1, 0xffff, Math.max(0, f.value.length - 1)]); return `length ${f.claimed}`;
        }
      }
      case 'bytes': case 'optBytes': {
        switch (rng.int(4)) {
          case 0: f.value = Buffer.alloc(0); return 'empty';
          case 1: f.value = rng.bytes(rng.pick([this.maxPayload, this.maxPayload + 1, 3 * this.maxPayload])); return `large ${f.value.length}`;
          case 2: f.value = Buffer.concat([f.value ?? Buffer.alloc(0), rng.pick(INVALID_UTF8)]); return 'invalid utf-8';
          default: f.claimed = rng.pick([0, (f.value?.length ?? 0) + 1, 0xffffffff, 0x7fffffff]); return `length ${f.claimed}`;
        }
      }
      case 'strList': {
        switch (rng.int(3)) {
          case 0: f.value = Array.from({ length: 255 }, () => Buffer.from(rng.pick(FUZZ_FEATURES))); return '255 entries';
          case 1: f.value = [Buffer.concat([Buffer.from('sync'), rng.pick(INVALID_UTF8)]), Buffer.from('|')]; return 'odd entries';
          default: f.claimed = rng.pick([0, 255, f.value.length + 1]); return `count ${f.claimed}`;
        }
      }
      case 'raw': f.value = rng.bytes(rng.int(rng.pick([8, 300, 5000]))); return 'random';
    }
  }

  /** A valid frame of a random type, as a client (or, for the hub-bound types, a confused client) would send it. */
  private wellFormed(): { name: string; type: number; fields: Field[] } {
    const rng = this.rng;
    const topic = (): Field => str(rng.pick(TOPICS));
    const payload = (): Field => bytes(rng.bytes(rng.int(rng.pick([16, 256, this.maxPayload]))));
    const corr = (): Field => u32(rng.between(1, 1_000_000));
    const subId = (): Field => u32(rng.between(1, 8));
    const seq = (): Field => u64(rng.pick([0, 1, rng.between(1, 2000)]));
    const core: Array<[string, number, () => Field[]]> = [
      ['HELLO', FrameType.HELLO, () => [u16(PROTOCOL_VERSION), str(''), str('fuzz'), { kind: 'strList', value: FUZZ_FEATURES.map((s) => Buffer.from(s)) }]],
      ['WELCOME', FrameType.WELCOME, () => [u16(PROTOCOL_VERSION), str('hub'), u32(1 << 20), u32(1 << 20), u16(100), { kind: 'strList', value: [] }]],
      ['PING', FrameType.PING, () => [u32(rng.between(1 << 20, 0xffffffff))]],
      ['PONG', FrameType.PONG, () => [u32(rng.int(0xffffffff))]],
      ['GOODBYE', FrameType.GOODBYE, () => [u16(rng.int(100)), str('bye')]],
      ['ERROR', FrameType.ERROR, () => [corr(), subId(), u16(rng.int(80)), str('oops')]],
      ['OK', FrameType.OK, () => [corr()]],
      ['REDIRECT', FrameType.REDIRECT, () => [corr(), topic(), str('hub-x'), str('127.0.0.1:1'), u64(rng.int(10))]],
      ['PUBLISH', FrameType.PUBLISH, () => [corr(), topic(),
        { kind: 'optBytes', value: rng.int(2) === 0 ? undefined : rng.bytes(rng.int(32)) },
        str(rng.int(2) === 0 ? '' : rng.pick(PRODUCERS)), u64(rng.between(0, 50)), payload()]],
      ['PUBLISH_ACK', FrameType.PUBLISH_ACK, () => [corr(), seq(), u8(rng.int(3))]],
      ['SUBSCRIBE', FrameType.SUBSCRIBE, () => [corr(), subId(), topic(), str(rng.pick(SUBSCRIPTIONS)), u8(rng.int(3)), seq(), u32(rng.pick([1, 10, 1000]))]],
      ['SUBSCRIBED', FrameType.SUBSCRIBED, () => [corr(), subId(), seq(), seq()]],
      ['DELIVER', FrameType.DELIVER, () => [subId(), seq(), u64(rng.pick([0, 1_700_000_000_000, Number.MAX_SAFE_INTEGER])), { kind: 'optBytes', value: undefined }, payload()]],
      ['CREDIT', FrameType.CREDIT, () => [subId(), u32(rng.pick([1, 100, 1000]))]],
      ['ACK', FrameType.ACK, () => [subId(), seq()]],
      ['DETACH', FrameType.DETACH, () => [corr(), subId()]],
      ['UNSUBSCRIBE', FrameType.UNSUBSCRIBE, () => [corr(), topic(), str(rng.pick(SUBSCRIPTIONS))]],
      ['CONFIGURE_TOPIC', FrameType.CONFIGURE_TOPIC, () => [corr(), topic(), u64(rng.pick([0, 10, 1000])), u64(rng.pick([0, 60_000]))]],
      ['DELETE_TOPIC', FrameType.DELETE_TOPIC, () => [corr(), topic()]],
      ['QUERY', FrameType.QUERY, () => [corr(), str(rng.pick(QUERY_KINDS)), bytes(Buffer.from(rng.pick(['', '{}', `{"topic":"${rng.pick(TOPICS)}"}`, '{"name":"x"}', 'not json'])))]],
      ['RESULT', FrameType.RESULT, () => [corr(), bytes(Buffer.from('{}'))]],
    ];
    // Service frames (about a third of the structured ones): the envelope and the resource are well-formed, the service's own payload mostly noise.
    if (rng.int(3) === 0) {
      const range = rng.pick(SERVICE_RANGES);
      const type = rng.between(range.first, range.last);
      const resource = `${rng.pick(RESOURCE_KINDS)}|${rng.pick(['fuzz', 'f.1', 'gate-a', 'x'])}`;
      return { name: `${range.service} 0x${type.toString(16)}`, type, fields: [corr(), str(resource), { kind: 'raw', value: rng.bytes(rng.int(rng.pick([4, 40, 400]))) }] };
    }
    const [name, type, make] = rng.pick(core);
    return { name, type, fields: make() };
  }
}
