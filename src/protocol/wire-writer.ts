const TWO_32 = 0x1_0000_0000;
const ABSENT = 0xffffffff;

/** Field sizes, so a frame is allocated once at its exact length. */
export const size = {
  str: (s: string): number => 2 + Buffer.byteLength(s),
  bytes: (b: Uint8Array): number => 4 + b.length,
  optBytes: (b: Uint8Array | undefined): number => 4 + (b ? b.length : 0),
  strList: (l: readonly string[]): number => l.reduce((n, s) => n + 2 + Buffer.byteLength(s), 1),
};

/** Writes one frame: u32 length, u8 type, then the body [P-2.1]. */
export class WireWriter {
  readonly buf: Buffer;
  private pos = 5;

  constructor(type: number, bodyBytes: number) {
    this.buf = Buffer.allocUnsafe(5 + bodyBytes);
    this.buf.writeUInt32BE(1 + bodyBytes, 0);
    this.buf[4] = type;
  }

  u8(v: number): this {
    this.buf[this.pos++] = v;
    return this;
  }
  u16(v: number): this {
    this.pos = this.buf.writeUInt16BE(v, this.pos);
    return this;
  }
  u32(v: number): this {
    this.pos = this.buf.writeUInt32BE(v >>> 0, this.pos);
    return this;
  }
  u64(v: number): this {
    this.pos = this.buf.writeUInt32BE(Math.floor(v / TWO_32), this.pos);
    this.pos = this.buf.writeUInt32BE(v >>> 0, this.pos);
    return this;
  }
  str(s: string): this {
    const len = this.buf.write(s, this.pos + 2, 'utf8');
    if (len > 0xffff) throw new RangeError('string field longer than 65535 bytes');
    this.buf.writeUInt16BE(len, this.pos);
    this.pos += 2 + len;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.pos = this.buf.writeUInt32BE(b.length, this.pos);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  optBytes(b: Uint8Array | undefined): this {
    if (b === undefined) return this.u32(ABSENT);
    return this.bytes(b);
  }
  strList(l: readonly string[]): this {
    this.u8(l.length);
    for (const s of l) this.str(s);
    return this;
  }
  raw(b: Uint8Array): this {
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  finish(): Buffer {
    if (this.pos !== this.buf.length) throw new Error(`frame size mismatch: wrote ${this.pos}, sized ${this.buf.length}`);
    return this.buf;
  }
}
