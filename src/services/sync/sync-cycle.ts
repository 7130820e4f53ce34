import type { SyncTable } from './sync-frames.js';

/** A roll the table remembers: which version activated at which instant, in which cycle. */
export interface RollRecord {
  cycle: number;
  version: string;
  at: number;
}

/**
 * The synchronization table as the owner stores it in the resource's fenced
 * state [P-13.3]: the wire table plus what only the owner needs. JSON has no
 * NaN, so absent times are null here.
 */
export interface StoredTable {
  rev: number;
  cycle: number;
  activeId: string;
  activeSince: number | null;
  stagedId: string;
  activationAt: number | null;
  intervalMs: number;
  /** Versions are named `v<seq>.<epoch>`: unique even when a fenced owner wrote one that never landed. */
  nextSeq: number;
  /** Retained versions, oldest first: diff bases for servers a cycle or two behind. */
  versions: string[];
  /** The last rolls, newest last. */
  history: RollRecord[];
}

export const KEPT_VERSIONS = 6;
export const KEPT_HISTORY = 50;
/** Shortest cycle: the seed's interval must exceed the retrieval time of every server. */
export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 366 * 24 * 3600_000;
/** Schedule and rollback are refused this close to an activation: servers may already be switching. */
export const IMMINENT_MS = 1000;

export function emptyTable(): StoredTable {
  return { rev: 0, cycle: 0, activeId: '', activeSince: null, stagedId: '', activationAt: null, intervalMs: 0, nextSeq: 1, versions: [], history: [] };
}

export function wireTable(t: StoredTable): SyncTable {
  return {
    rev: t.rev, cycle: t.cycle, activeId: t.activeId, activeSince: t.activeSince ?? NaN,
    stagedId: t.stagedId, activationAt: t.activationAt ?? NaN, intervalMs: t.intervalMs,
  };
}

/** The activation instant has come (farm time): the next request or timer rolls the cycle. */
export function isDue(t: StoredTable, now: number): boolean {
  return t.activationAt !== null && now >= t.activationAt;
}

/**
 * seed 001, Fig. 5, step 226: activation_time += interval. A cycle the owner
 * missed entirely (no hub alive at its instant) is not replayed: the next
 * instant is the first one still ahead, so servers are never asked to
 * activate in the past.
 */
export function nextActivation(at: number, intervalMs: number, now: number): number {
  const k = Math.max(1, Math.floor((now - at) / intervalMs) + 1);
  return at + k * intervalMs;
}

/**
 * The roll, seed 001, Fig. 5, steps 226–230, as one new table: the staged
 * version becomes active at its instant, `staged` (production's snapshot, or
 * the new active one when production did not change) is staged for the next
 * instant. The caller writes it with compare-and-set: that write is the roll.
 */
export function rolled(t: StoredTable, now: number, staged: string | undefined): StoredTable {
  const at = t.activationAt!;
  const next = t.intervalMs > 0 ? nextActivation(at, t.intervalMs, now) : null;
  const stagedId = next === null ? t.stagedId : (staged ?? t.stagedId);
  return {
    ...t, rev: t.rev + 1, cycle: t.cycle + 1, activeId: t.stagedId, activeSince: at, stagedId, activationAt: next,
    history: [...t.history, { cycle: t.cycle + 1, version: t.stagedId, at }].slice(-KEPT_HISTORY),
  };
}

/** Adds a version to those retained; returns the new list and the ones dropped (never active or staged). */
export function retain(t: StoredTable, id: string): { versions: string[]; dropped: string[] } {
  const all = id === '' || t.versions.includes(id) ? t.versions : [...t.versions, id];
  const keep = new Set([t.activeId, t.stagedId, id].filter((v) => v !== ''));
  const versions: string[] = [];
  const dropped: string[] = [];
  let spare = KEPT_VERSIONS - keep.size;
  for (let i = all.length - 1; i >= 0; i--) {
    const v = all[i]!;
    if (keep.has(v)) versions.unshift(v);
    else if (spare-- > 0) versions.unshift(v);
    else dropped.push(v);
  }
  return { versions, dropped };
}
