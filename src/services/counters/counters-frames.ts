import { CorralError } from '../../protocol/corral-error.js';
import { WireReader } from '../../protocol/wire-reader.js';

/**
 * The tree counters' frames [P-14] in their range 0x50–0x5F. Counter values
 * are unsigned 64-bit (seed 000, claims 10 and 34): 8-byte big-endian fields
 * on the wire, `bigint` in the API, arithmetic modulo 2^64.
 */
export const CountersFrame = {
  /** C→H [P-14.2]: `memberId` str, `epoch` u32 (0: a new process). */
  REGISTER: 0x50,
  /** H→C: `token` u32, `epoch` u32. */
  REGISTERED: 0x51,
  /** C→H [P-14.3]: `token` u32, `count` u16, `count` × name str. */
  SUBSCRIBE: 0x52,
  /** H→C: `count` u16, `count` × variable token u32, in the request's order. */
  SUBSCRIBED: 0x53,
  /** C→H [P-14.4]: `token` u32, `seq` u32, `flags` u8, entries (variable token, subtree total). */
  SYNC: 0x54,
  /** H→C: entries (variable token, parent value) that changed since the last exchange on this link. */
  SYNC_REPLY: 0x55,
  /** H→C unasked [P-14.5]: `token` u32, entries (variable token, parent value). */
  PARENT_VALUES: 0x56,
  /** C→H [P-14.6]: `name` str, `value` u64: sets the global value. */
  SET: 0x57,
  /** H→C: `variable` u32, `previous` u64 (the global value before). */
  SET_DONE: 0x58,
  /** C→H [P-14.7]: `token` u32: the member leaves; the root adopts what it delivered. */
  LEAVE: 0x59,
  /** H→C: empty. */
  LEFT: 0x5a,
  /** C→H [P-14.8]: empty; the reply shows the partition's tree. */
  TREE: 0x5b,
  /** H→C: UTF-8 JSON of `TreeView`. */
  TREE_REPLY: 0x5c,
} as const;

/** SYNC flag [P-14.4]: a variable of this batch is near a watched threshold; the root pushes it on at once. */
export const SYNC_URGENT = 1;
/** SYNC flag [P-14.4]: the member may have lost a reply; send it every variable it reads. */
export const SYNC_FULL = 2;
/** Entries one SUBSCRIBE or SYNC may carry; a bigger batch is BATCH_TOO_LARGE. */
export const MAX_BATCH = 16_384;
const ENTRY_BYTES = 12;
const NAME = /^[A-Za-z0-9._:/@-]{1,255}$/;

export const U64_MAX = (1n << 64n) - 1n;

/** Arithmetic modulo 2^64 [P-14.1]: every counter value is reduced with this. */
export function wrapU64(x: bigint): bigint {
  return BigInt.asUintN(64, x);
}

/** Member ids and variable names: 1–255 characters from [A-Za-z0-9._:/@-] ("@" for windowed counters). */
export function checkCounterName(name: string, what: string): void {
  if (!NAME.test(name)) {
    throw new CorralError('INVALID_COUNTER_NAME', `invalid ${what} ${JSON.stringify(name.slice(0, 64))}: use 1-255 characters from [A-Za-z0-9._:/@-]`);
  }
}

/** One (variable token, value) pair of a SYNC, SYNC_REPLY or PARENT_VALUES. */
export type Entry = readonly [token: number, value: bigint];

function writeEntries(b: Buffer, at: number, entries: readonly Entry[]): void {
  b.writeUInt32BE(entries.length, at);
  let pos = at + 4;
  for (const [token, value] of entries) {
    b.writeUInt32BE(token, pos);
    b.writeBigUInt64BE(wrapU64(value), pos + 4);
    pos += ENTRY_BYTES;
  }
}

function readEntries(r: WireReader): Entry[] {
  const n = r.u32();
  if (n > MAX_BATCH) throw new CorralError('BATCH_TOO_LARGE', `${n} entries in one frame; the limit is ${MAX_BATCH}`);
  const raw = r.rest();
  if (raw.length !== n * ENTRY_BYTES) throw new CorralError('BAD_FRAME', `${n} entries need ${n * ENTRY_BYTES} bytes, the frame has ${raw.length}`);
  const out: Entry[] = new Array<Entry>(n);
  for (let i = 0; i < n; i++) out[i] = [raw.readUInt32BE(i * ENTRY_BYTES), raw.readBigUInt64BE(i * ENTRY_BYTES + 4)];
  return out;
}

function reader(payload: Buffer): WireReader {
  return new WireReader(payload, 0, payload.length);
}

export function encodeRegister(memberId: string, epoch: number): Buffer {
  const id = Buffer.from(memberId);
  const b = Buffer.allocUnsafe(2 + id.length + 4);
  b.writeUInt16BE(id.length, 0);
  id.copy(b, 2);
  b.writeUInt32BE(epoch, 2 + id.length);
  return b;
}

export function decodeRegister(payload: Buffer): { memberId: string; epoch: number } {
  const r = reader(payload);
  const out = { memberId: r.str(), epoch: r.u32() };
  r.done();
  return out;
}

export function encodeRegistered(token: number, epoch: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(token, 0);
  b.writeUInt32BE(epoch, 4);
  return b;
}

export function decodeRegistered(payload: Buffer): { token: number; epoch: number } {
  const r = reader(payload);
  const out = { token: r.u32(), epoch: r.u32() };
  r.done();
  return out;
}

export function encodeSubscribe(token: number, names: readonly string[]): Buffer {
  const parts = names.map((n) => Buffer.from(n));
  const b = Buffer.allocUnsafe(6 + parts.reduce((s, p) => s + 2 + p.length, 0));
  b.writeUInt32BE(token, 0);
  b.writeUInt16BE(names.length, 4);
  let pos = 6;
  for (const p of parts) {
    pos = b.writeUInt16BE(p.length, pos);
    pos += p.copy(b, pos);
  }
  return b;
}

export function decodeSubscribe(payload: Buffer): { token: number; names: string[] } {
  const r = reader(payload);
  const token = r.u32();
  const n = r.u16();
  if (n > MAX_BATCH) throw new CorralError('BATCH_TOO_LARGE', `${n} variables in one SUBSCRIBE; the limit is ${MAX_BATCH}`);
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push(r.str());
  r.done();
  return { token, names };
}

export function encodeSubscribed(tokens: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(2 + 4 * tokens.length);
  b.writeUInt16BE(tokens.length, 0);
  tokens.forEach((t, i) => b.writeUInt32BE(t, 2 + 4 * i));
  return b;
}

export function decodeSubscribed(payload: Buffer): number[] {
  const r = reader(payload);
  const n = r.u16();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u32());
  r.done();
  return out;
}

export interface SyncRequest {
  token: number;
  /** Per link, increasing: the root ignores a SYNC not above the last it applied (a resend). */
  seq: number;
  flags: number;
  entries: readonly Entry[];
}

export function encodeSync(s: SyncRequest): Buffer {
  const b = Buffer.allocUnsafe(13 + ENTRY_BYTES * s.entries.length);
  b.writeUInt32BE(s.token, 0);
  b.writeUInt32BE(s.seq, 4);
  b.writeUInt8(s.flags, 8);
  writeEntries(b, 9, s.entries);
  return b;
}

export function decodeSync(payload: Buffer): SyncRequest {
  const r = reader(payload);
  const token = r.u32();
  const seq = r.u32();
  const flags = r.u8();
  return { token, seq, flags, entries: readEntries(r) };
}

/** SYNC_REPLY: the parent values; PARENT_VALUES: the member token, then the same. */
export function encodeEntries(entries: readonly Entry[], token?: number): Buffer {
  const head = token === undefined ? 0 : 4;
  const b = Buffer.allocUnsafe(head + 4 + ENTRY_BYTES * entries.length);
  if (token !== undefined) b.writeUInt32BE(token, 0);
  writeEntries(b, head, entries);
  return b;
}

export function decodeSyncReply(payload: Buffer): Entry[] {
  return readEntries(reader(payload));
}

export function decodeParentValues(payload: Buffer): { token: number; entries: Entry[] } {
  const r = reader(payload);
  const token = r.u32();
  return { token, entries: readEntries(r) };
}

export function encodeSet(name: string, value: bigint): Buffer {
  const n = Buffer.from(name);
  const b = Buffer.allocUnsafe(2 + n.length + 8);
  b.writeUInt16BE(n.length, 0);
  n.copy(b, 2);
  b.writeBigUInt64BE(wrapU64(value), 2 + n.length);
  return b;
}

export function decodeSet(payload: Buffer): { name: string; value: bigint } {
  const r = reader(payload);
  const name = r.str();
  const rest = r.rest();
  if (rest.length !== 8) throw new CorralError('BAD_FRAME', `SET value must be 8 bytes, not ${rest.length}`);
  return { name, value: rest.readBigUInt64BE(0) };
}

export function encodeSetDone(token: number, previous: bigint): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32BE(token, 0);
  b.writeBigUInt64BE(wrapU64(previous), 4);
  return b;
}

export function decodeSetDone(payload: Buffer): { token: number; previous: bigint } {
  if (payload.length !== 12) throw new CorralError('BAD_FRAME', `SET_DONE body must be 12 bytes, not ${payload.length}`);
  return { token: payload.readUInt32BE(0), previous: payload.readBigUInt64BE(4) };
}

export function encodeToken(token: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(token, 0);
  return b;
}

export function decodeToken(payload: Buffer): number {
  if (payload.length !== 4) throw new CorralError('BAD_FRAME', `body must be a 4-byte token, not ${payload.length} bytes`);
  return payload.readUInt32BE(0);
}

/** What TREE_REPLY shows of a partition (values as decimal strings: JSON has no 64-bit integers). */
export interface TreeView {
  partition: string;
  /** A branch's path; absent at the root. */
  branch?: string | undefined;
  hubId: string;
  epoch: number;
  /** A branch's link to its parent: its member id there, link epoch and last SYNC seq, and what it exchanged. */
  up?: {
    parent: string; memberId: string; epoch: number; seq: number;
    stats: { syncs: number; bytesUp: number; bytesDown: number; entriesUp: number; entriesDown: number; pushes: number };
    /** Why the branch's last registration or exchange with its parent failed (its code, and what to change); absent while linked. */
    error?: { code: string; message: string } | undefined;
  } | undefined;
  variables: Array<{ name: string; token: number; global: string; root: string }>;
  members: Array<{ memberId: string; epoch: number; connected: boolean; seq: number; totals: Record<string, string> }>;
  /** The branches among the members, each as it sees itself (`Counters.readWholeTree`, `corral counters`); not in TREE_REPLY. */
  branches?: TreeView[];
}

/** A branch's member id in its parent [P-14.10]: `branch:` and its full path. Client members may not use the prefix. */
export const BRANCH_MEMBER_PREFIX = 'branch:';
const SEGMENT = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The resource of a partition's root, `counters|<partition>`, or of one of
 * its branches, `counters|<partition>/<branch>` [P-14.10]. A partition name
 * and each segment of a branch path are 1–64 characters from
 * [A-Za-z0-9._:-]; a branch path nests with "/" (`eu/rack-1`).
 */
export function counterResource(partition: string, branch?: string): string {
  const resource = branch === undefined ? `counters|${partition}` : `counters|${partition}/${branch}`;
  parseCounterResource(resource);
  return resource;
}

/** Where a counters resource sits in its partition's tree. */
export interface CounterPlace {
  partition: string;
  /** Branch path segments; empty for the root. */
  branch: string[];
}

export function parseCounterResource(resource: string): CounterPlace {
  const name = resource.startsWith('counters|') ? resource.slice('counters|'.length) : '';
  const [partition = '', ...branch] = name.split('/');
  for (const seg of [partition, ...branch]) {
    if (!SEGMENT.test(seg)) {
      throw new CorralError('INVALID_COUNTER_NAME', `invalid counters resource ${JSON.stringify(resource.slice(0, 64))}: `
        + 'use counters|<partition> or counters|<partition>/<branch>[/<branch>…], each part 1-64 characters from [A-Za-z0-9._:-]');
    }
  }
  return { partition, branch };
}

/** The resource a branch links up to: its parent branch, or the partition's root. */
export function parentResource(place: CounterPlace): string {
  return `counters|${[place.partition, ...place.branch.slice(0, -1)].join('/')}`;
}
