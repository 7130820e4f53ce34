import { CorralError } from '../../protocol/corral-error.js';
import { WireReader } from '../../protocol/wire-reader.js';

/**
 * The data-set service's frames [P-13] in its range 0x40–0x4F. Control
 * frames (edits, schedule, status) carry small JSON answers; the hot path
 * (TABLE, FETCH, PAGE) is binary. Times are float64 ms of farm time (the
 * farm clock's), NaN where there is none.
 */
export const SyncFrame = {
  /** C→H: `watch` u8 (1 = push TABLE to this connection on every change). Reply TABLE. */
  WATCH: 0x40,
  /** H→C: the synchronization table; also pushed (corr 0) when it changes [P-13.3]. */
  TABLE: 0x41,
  /** C→H: `version` str, `base` str ('' = none), `after` str (cursor, '' = start), `maxBytes` u32. Reply PAGE. */
  FETCH: 0x42,
  /** H→C: `version` str, `full` u8, `count` u32, entries, `more` u8 [P-13.4]. */
  PAGE: 0x43,
  /** C→H: `flags` u8 (1 replace all, 2 more batches follow, 4 a continuation batch), `count` u32, entries (put or delete) into production. Reply RESULT. */
  EDIT: 0x44,
  /** C→H: `at` f64 (NaN = unchanged), `intervalMs` f64 (NaN = unchanged). Stages production. Reply RESULT. */
  SCHEDULE: 0x45,
  /** C→H: `version` str ('' = the staged one). Reply RESULT. */
  ROLLBACK: 0x46,
  /** C→H: `version` str, `activatedAt` f64, `late` u8, `retrievalMs` f64. Reply RESULT. */
  REPORT: 0x47,
  /** C→H: empty. Reply RESULT (status JSON). */
  STATUS: 0x48,
  /** C→H: `which` str (active|staged|production), `key` str. Reply VALUE. */
  READ: 0x49,
  /** H→C: `found` u8, `version` str, `value` bytes. */
  VALUE: 0x4a,
  /** H→C: a JSON document (UTF-8). */
  RESULT: 0x4b,
} as const;

/** Longest key, UTF-8 bytes [P-13.2]. */
export const MAX_KEY_BYTES = 1024;
/** Largest value [P-13.2]: a page always fits one entry within the frame limit. */
export const MAX_VALUE_BYTES = 256 * 1024;
/** What a PAGE carries at most (apart from its first entry). */
export const MAX_PAGE_BYTES = 512 * 1024;

/** The synchronization table [P-13.3] (seed 001, table 210). `rev` grows with every write. */
export interface SyncTable {
  rev: number;
  cycle: number;
  /** '' = nothing active yet. */
  activeId: string;
  /** Farm time the active version activated (NaN before the first). */
  activeSince: number;
  /** Equal to activeId when nothing new is staged. */
  stagedId: string;
  /** Farm time the staged version activates; NaN = none scheduled. */
  activationAt: number;
  /** 0 = one activation, no cycle after it. */
  intervalMs: number;
}

/** One key of a page or an edit: a put carries a value, a delete does not. */
export interface Entry {
  key: string;
  value: Buffer | undefined;
}

export interface Page {
  version: string;
  /** The hub did not know the base: the page sequence is the whole version, from empty. */
  full: boolean;
  entries: Entry[];
  more: boolean;
}

export interface FetchRequest {
  version: string;
  base: string;
  after: string;
  maxBytes: number;
}

export interface Report {
  version: string;
  activatedAt: number;
  late: boolean;
  retrievalMs: number;
}

export type ReadWhich = 'active' | 'staged' | 'production';

const bytesOf = (s: string): number => Buffer.byteLength(s);

/** Writes one payload at its exact size (WireWriter writes whole frames; these are envelope payloads). */
class Out {
  readonly buf: Buffer;
  private at = 0;
  constructor(n: number) {
    this.buf = Buffer.allocUnsafe(n);
  }
  u8(v: number): this {
    this.buf[this.at++] = v;
    return this;
  }
  u32(v: number): this {
    this.at = this.buf.writeUInt32BE(v, this.at);
    return this;
  }
  f64(v: number): this {
    this.at = this.buf.writeDoubleBE(v, this.at);
    return this;
  }
  str(s: string): this {
    const n = this.buf.write(s, this.at + 2, 'utf8');
    this.buf.writeUInt16BE(n, this.at);
    this.at += 2 + n;
    return this;
  }
  bytes(b: Buffer): this {
    this.at = this.buf.writeUInt32BE(b.length, this.at);
    b.copy(this.buf, this.at);
    this.at += b.length;
    return this;
  }
  done(): Buffer {
    if (this.at !== this.buf.length) throw new Error(`sync frame size mismatch: ${this.at} of ${this.buf.length}`);
    return this.buf;
  }
}

function reader(payload: Buffer): WireReader {
  return new WireReader(payload, 0, payload.length);
}

const f64Scratch = Buffer.allocUnsafe(8);

/** WireReader has no float field; a float64 is its two u32 halves. */
function f64(r: WireReader): number {
  f64Scratch.writeUInt32BE(r.u32(), 0);
  f64Scratch.writeUInt32BE(r.u32(), 4);
  return f64Scratch.readDoubleBE(0);
}

export function encodeWatch(watch: boolean): Buffer {
  return Buffer.from([watch ? 1 : 0]);
}

export function decodeWatch(payload: Buffer): boolean {
  const r = reader(payload);
  const w = r.u8();
  r.done();
  return w === 1;
}

export function encodeTable(t: SyncTable): Buffer {
  return new Out(8 + 8 + size(t.activeId) + 8 + size(t.stagedId) + 8 + 8)
    .f64(t.rev).f64(t.cycle).str(t.activeId).f64(t.activeSince).str(t.stagedId).f64(t.activationAt).f64(t.intervalMs).done();
}

export function decodeTable(payload: Buffer): SyncTable {
  const r = reader(payload);
  const t: SyncTable = { rev: f64(r), cycle: f64(r), activeId: r.str(), activeSince: f64(r), stagedId: r.str(), activationAt: f64(r), intervalMs: f64(r) };
  r.done();
  return t;
}

function size(s: string): number {
  return 2 + bytesOf(s);
}

export function encodeFetch(f: FetchRequest): Buffer {
  return new Out(size(f.version) + size(f.base) + size(f.after) + 4).str(f.version).str(f.base).str(f.after).u32(f.maxBytes).done();
}

export function decodeFetch(payload: Buffer): FetchRequest {
  const r = reader(payload);
  const f = { version: r.str(), base: r.str(), after: r.str(), maxBytes: r.u32() };
  r.done();
  return f;
}

function entriesSize(entries: readonly Entry[]): number {
  let n = 4;
  for (const e of entries) n += 1 + size(e.key) + (e.value ? 4 + e.value.length : 0);
  return n;
}

function writeEntries(o: Out, entries: readonly Entry[]): Out {
  o.u32(entries.length);
  for (const e of entries) {
    o.u8(e.value ? 1 : 0).str(e.key);
    if (e.value) o.bytes(e.value);
  }
  return o;
}

function readEntries(r: WireReader): Entry[] {
  const n = r.u32();
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const op = r.u8();
    if (op > 1) throw new CorralError('BAD_FRAME', `entry op ${op} is neither 0 (delete) nor 1 (put)`);
    const key = r.str();
    // Copied: a value outlives the frame buffer it arrived in.
    out.push({ key, value: op === 1 ? Buffer.from(r.bytes()) : undefined });
  }
  return out;
}

/** The encoded size of one entry in a PAGE or EDIT. */
export function entrySize(key: string, value: Buffer | undefined): number {
  return 1 + size(key) + (value ? 4 + value.length : 0);
}

export function encodePage(p: Page): Buffer {
  const o = new Out(size(p.version) + 1 + entriesSize(p.entries) + 1).str(p.version).u8(p.full ? 1 : 0);
  return writeEntries(o, p.entries).u8(p.more ? 1 : 0).done();
}

export function decodePage(payload: Buffer): Page {
  const r = reader(payload);
  const version = r.str();
  const full = r.u8() === 1;
  const entries = readEntries(r);
  const more = r.u8() === 1;
  r.done();
  return { version, full, entries, more };
}

/** An edit of production; a large one is several EDITs, all but the last with `more`, applied together by the last [P-13.2]. */
export interface Edit {
  replaceAll: boolean;
  more: boolean;
  /** Not the first batch of its edit: the hub must hold the earlier ones. */
  continued: boolean;
  entries: Entry[];
}

export function encodeEdit(e: Edit): Buffer {
  return writeEntries(new Out(1 + entriesSize(e.entries)).u8((e.replaceAll ? 1 : 0) | (e.more ? 2 : 0) | (e.continued ? 4 : 0)), e.entries).done();
}

export function decodeEdit(payload: Buffer): Edit {
  const r = reader(payload);
  const flags = r.u8();
  if (flags > 7) throw new CorralError('BAD_FRAME', `EDIT flags ${flags}: only bits 1 (replace), 2 (more) and 4 (continued) are defined`);
  const entries = readEntries(r);
  r.done();
  return { replaceAll: (flags & 1) !== 0, more: (flags & 2) !== 0, continued: (flags & 4) !== 0, entries };
}

export function encodeSchedule(at: number, intervalMs: number): Buffer {
  return new Out(16).f64(at).f64(intervalMs).done();
}

export function decodeSchedule(payload: Buffer): { at: number; intervalMs: number } {
  const r = reader(payload);
  const s = { at: f64(r), intervalMs: f64(r) };
  r.done();
  return s;
}

export function encodeVersionArg(version: string): Buffer {
  return new Out(size(version)).str(version).done();
}

export function decodeVersionArg(payload: Buffer): string {
  const r = reader(payload);
  const v = r.str();
  r.done();
  return v;
}

export function encodeReport(rep: Report): Buffer {
  return new Out(size(rep.version) + 8 + 1 + 8).str(rep.version).f64(rep.activatedAt).u8(rep.late ? 1 : 0).f64(rep.retrievalMs).done();
}

export function decodeReport(payload: Buffer): Report {
  const r = reader(payload);
  const rep = { version: r.str(), activatedAt: f64(r), late: r.u8() === 1, retrievalMs: f64(r) };
  r.done();
  return rep;
}

const WHICH: readonly ReadWhich[] = ['active', 'staged', 'production'];

export function encodeRead(which: ReadWhich, key: string): Buffer {
  return new Out(size(which) + size(key)).str(which).str(key).done();
}

export function decodeRead(payload: Buffer): { which: ReadWhich; key: string } {
  const r = reader(payload);
  const which = r.str();
  const key = r.str();
  r.done();
  if (!(WHICH as readonly string[]).includes(which)) throw new CorralError('BAD_FRAME', `READ names ${JSON.stringify(which)}, not one of ${WHICH.join(', ')}`);
  return { which: which as ReadWhich, key };
}

export function encodeValue(found: boolean, version: string, value: Buffer | undefined): Buffer {
  const v = value ?? Buffer.alloc(0);
  return new Out(1 + size(version) + 4 + v.length).u8(found ? 1 : 0).str(version).bytes(v).done();
}

export function decodeValue(payload: Buffer): { found: boolean; version: string; value: Buffer | undefined } {
  const r = reader(payload);
  const found = r.u8() === 1;
  const version = r.str();
  const value = Buffer.from(r.bytes());
  r.done();
  return { found, version, value: found ? value : undefined };
}

export function encodeResult(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc));
}

export function decodeResult<T>(payload: Buffer): T {
  try {
    return JSON.parse(payload.toString('utf8')) as T;
  } catch {
    throw new CorralError('BAD_FRAME', 'RESULT body is not JSON');
  }
}
