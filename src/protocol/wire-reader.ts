import { CorralError } from './corral-error.js';

const TWO_32 = 0x1_0000_0000;
const ABSENT = 0xffffffff;

/** Reads fields from one frame body; any overrun is a BAD_FRAME [P-2.2]. */
export class WireReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  private need(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new CorralError('BAD_FRAME', 'frame body is truncated');
    this.pos = at + n;
    return at;
  }

  u8(): number {
    return this.buf[this.need(1)]!;
  }
  u16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }
  u32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }
  /** u64 limited to Number.MAX_SAFE_INTEGER. */
  u64(): number {
    const at = this.need(8);
    const hi = this.buf.readUInt32BE(at);
    if (hi > 0x1fffff) throw new CorralError('BAD_FRAME', 'u64 field exceeds 2^53-1');
    return hi * TWO_32 + this.buf.readUInt32BE(at + 4);
  }
  str(): string {
    const len = this.u16();
    const at = this.need(len);
    return this.buf.toString('utf8', at, at + len);
  }
  bytes(): Buffer {
    const len = this.u32();
    const at = this.need(len);
    return this.buf.subarray(at, at + len);
  }
  optBytes(): Buffer | undefined {
    const len = this.u32();
    if (len === ABSENT) return undefined;
    const at = this.need(len);
    return this.buf.subarray(at, at + len);
  }
  strList(): string[] {
    const n = this.u8();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.str());
    return out;
  }
  /** True when fields remain: a later field added at the end of a frame ([§10]) is present. */
  more(): boolean {
    return this.pos < this.end;
  }
  rest(): Buffer {
    const at = this.pos;
    this.pos = this.end;
    return this.buf.subarray(at, this.end);
  }
  done(): void {
    if (this.pos !== this.end) throw new CorralError('BAD_FRAME', 'frame has trailing bytes');
  }
}
