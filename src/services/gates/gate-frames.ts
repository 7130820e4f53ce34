import { CorralError } from '../../protocol/corral-error.js';
import { WireReader } from '../../protocol/wire-reader.js';
import { WireWriter } from '../../protocol/wire-writer.js';

/**
 * The gates service's frames [P-15] in its range 0x60–0x6F. Requests name a
 * gate resource `gate|<name>`; tickets are the strings the hub signed
 * (`<seq>.<class>.<mac>`, [P-15.3]).
 */
export const GateFrame = {
  /** C→H: `class` u8 (0 = first served), `request` str (1–64 characters, unique per acquire; a resent ACQUIRE is answered with the same ticket). Reply TICKET. */
  ACQUIRE: 0x60,
  /** H→C: the state of one ticket (see `TicketReply`). */
  TICKET: 0x61,
  /** C→H: `ticket` str. A waiter's heartbeat and re-attachment (also on another hub, or from another client). Reply TICKET. */
  WAIT: 0x62,
  /** C→H: `ticket` str. Extends a holder's lease. Reply TICKET. */
  RENEW: 0x63,
  /** C→H: `ticket` str. Gives a held slot back. Reply DONE. */
  RELEASE: 0x64,
  /** H→C: empty. */
  DONE: 0x65,
  /** C→H: `ticket` str. Leaves the queue, or releases the slot if held; idempotent. Reply DONE. */
  CANCEL: 0x66,
  /** C→H: `mode` u8 (0 create, 1 set), `config` str (JSON, a partial GateConfig). Reply STATUS. */
  CONFIGURE: 0x67,
  /** H→C: `status` str (JSON GateStatus). */
  STATUS: 0x68,
  /** C→H: empty. Reply STATUS. */
  STATUS_REQUEST: 0x69,
  /** C→H: empty. Every waiter leaves the queue (told EXPELLED GATE_DRAINED); holders keep their slots. Reply STATUS. */
  DRAIN: 0x6a,
  /** H→C push: `waiting` u32, `count` u32, then count × (`seq` u64, `position` u32). */
  POSITIONS: 0x6b,
  /** H→C push: `seq` u64, `admission` u64, `leaseMs` u32. */
  ADMITTED: 0x6c,
  /** H→C push: `seq` u64, `code` u16 (error wire number): the waiter lost its place. */
  EXPELLED: 0x6d,
} as const;

export const GATE_KIND = 'gate';

export function gateResource(name: string): string {
  return `${GATE_KIND}|${name}`;
}

/** A gate's settings [P-15.2]. */
export interface GateConfig {
  /** Most concurrent holders (the seed's maximum access level). */
  limit: number;
  /** A holder that does not renew within this loses its slot. */
  leaseMs: number;
  /** A waiter not heard from within this loses its place. */
  graceMs: number;
  /** Priority classes, 1–8; class 0 is served first. */
  classes: number;
  /** Most admissions in any 60 s window; 0 = no such limit. */
  perMinute: number;
  /** Farm time (ms since the epoch) the gate opens; arrivals before it are placed in random order then. 0 = open. */
  opensAt: number;
}

export const DEFAULT_GATE_CONFIG: Omit<GateConfig, 'limit'> = { leaseMs: 30_000, graceMs: 30_000, classes: 1, perMinute: 0, opensAt: 0 };

export interface GateStatus {
  gate: string;
  config: GateConfig;
  holders: number;
  waiting: number;
  /** Waiting per priority class. */
  waitingByClass: number[];
  /** Arrived before the opening instant, not yet placed. */
  prequeued: number;
  /** Admissions since the gate was created. */
  admissions: number;
  /** Admissions in the last 60 s. */
  lastMinute: number;
  hubId: string;
  epoch: number;
}

export const TicketState = { WAITING: 0, ADMITTED: 1, PREQUEUED: 2 } as const;
export type TicketStateCode = (typeof TicketState)[keyof typeof TicketState];

export interface TicketReply {
  state: TicketStateCode;
  ticket: string;
  /** 1 = next to be admitted; 0 when admitted or prequeued. */
  position: number;
  /** Live waiters in the whole queue. */
  waiting: number;
  leaseMs: number;
  graceMs: number;
  /** The admission's number in the gate's order (0 unless admitted). */
  admission: number;
}

const TICKET_RE = /^(\d{1,15})\.(\d)\.([A-Za-z0-9_-]{22})$/;

/** The parts of a ticket's text; INVALID_TICKET when it is not shaped like one (the hub checks its signature). */
export function parseTicket(ticket: string): { seq: number; cls: number; mac: string } {
  const m = TICKET_RE.exec(ticket);
  if (!m) throw new CorralError('INVALID_TICKET', 'a gate ticket is <seq>.<class>.<signature>');
  return { seq: Number(m[1]), cls: Number(m[2]), mac: m[3]! };
}

/** A payload of `bytes` bytes written with the protocol's field writer (the frame header cut off). */
function payload(bytes: number, write: (w: WireWriter) => void): Buffer {
  const w = new WireWriter(GateFrame.TICKET, bytes);
  write(w);
  return w.finish().subarray(5);
}

function reader(p: Buffer): WireReader {
  return new WireReader(p, 0, p.length);
}

export function encodeAcquire(cls: number, request: string): Buffer {
  return payload(1 + 2 + Buffer.byteLength(request), (w) => w.u8(cls).str(request));
}

export function decodeAcquire(p: Buffer): { cls: number; request: string } {
  const r = reader(p);
  const a = { cls: r.u8(), request: r.str() };
  r.done();
  if (a.request.length < 1 || a.request.length > 64) throw new CorralError('BAD_FRAME', 'ACQUIRE request id must be 1–64 characters');
  return a;
}

export function encodeTicketRequest(ticket: string): Buffer {
  return payload(2 + Buffer.byteLength(ticket), (w) => w.str(ticket));
}

export function decodeTicketRequest(p: Buffer): string {
  const r = reader(p);
  const t = r.str();
  r.done();
  return t;
}

export function encodeTicketReply(t: TicketReply): Buffer {
  return payload(1 + 2 + Buffer.byteLength(t.ticket) + 4 * 4 + 8,
    (w) => w.u8(t.state).str(t.ticket).u32(t.position).u32(t.waiting).u32(t.leaseMs).u32(t.graceMs).u64(t.admission));
}

export function decodeTicketReply(p: Buffer): TicketReply {
  const r = reader(p);
  const state = r.u8();
  if (state > 2) throw new CorralError('BAD_FRAME', `unknown ticket state ${state}`);
  const t: TicketReply = { state: state as TicketStateCode, ticket: r.str(), position: r.u32(), waiting: r.u32(), leaseMs: r.u32(), graceMs: r.u32(), admission: r.u64() };
  r.done();
  return t;
}

export function encodeConfigure(mode: 'create' | 'set', config: Partial<GateConfig>): Buffer {
  const json = JSON.stringify(config);
  return payload(1 + 2 + Buffer.byteLength(json), (w) => w.u8(mode === 'create' ? 0 : 1).str(json));
}

export function decodeConfigure(p: Buffer): { mode: 'create' | 'set'; config: Record<string, unknown> } {
  const r = reader(p);
  const mode = r.u8();
  const text = r.str();
  r.done();
  if (mode > 1) throw new CorralError('BAD_FRAME', `CONFIGURE mode must be 0 (create) or 1 (set), not ${mode}`);
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new CorralError('BAD_FRAME', 'CONFIGURE config is not JSON');
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new CorralError('BAD_FRAME', 'CONFIGURE config must be a JSON object');
  return { mode: mode === 0 ? 'create' : 'set', config: config as Record<string, unknown> };
}

export function encodeStatus(s: GateStatus): Buffer {
  const json = JSON.stringify(s);
  return payload(2 + Buffer.byteLength(json), (w) => w.str(json));
}

export function decodeStatus(p: Buffer): GateStatus {
  const r = reader(p);
  const s = JSON.parse(r.str()) as GateStatus;
  r.done();
  return s;
}

export interface PositionsPush {
  waiting: number;
  positions: Array<{ seq: number; position: number }>;
}

export function encodePositions(waiting: number, positions: ReadonlyArray<readonly [seq: number, position: number]>): Buffer {
  return payload(8 + positions.length * 12, (w) => {
    w.u32(waiting).u32(positions.length);
    for (const [seq, pos] of positions) w.u64(seq).u32(pos);
  });
}

export function decodePositions(p: Buffer): PositionsPush {
  const r = reader(p);
  const waiting = r.u32();
  const n = r.u32();
  const positions: Array<{ seq: number; position: number }> = [];
  for (let i = 0; i < n; i++) positions.push({ seq: r.u64(), position: r.u32() });
  r.done();
  return { waiting, positions };
}

export function encodeAdmitted(seq: number, admission: number, leaseMs: number): Buffer {
  return payload(20, (w) => w.u64(seq).u64(admission).u32(leaseMs));
}

export function decodeAdmitted(p: Buffer): { seq: number; admission: number; leaseMs: number } {
  const r = reader(p);
  const a = { seq: r.u64(), admission: r.u64(), leaseMs: r.u32() };
  r.done();
  return a;
}

export function encodeExpelled(seq: number, code: number): Buffer {
  return payload(10, (w) => w.u64(seq).u16(code));
}

export function decodeExpelled(p: Buffer): { seq: number; code: number } {
  const r = reader(p);
  const e = { seq: r.u64(), code: r.u16() };
  r.done();
  return e;
}
