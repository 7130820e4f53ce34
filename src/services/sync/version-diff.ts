import { entrySize, type Entry } from './sync-frames.js';

/** A version's content: key → hash of its value (values are stored once per hash, shared by versions). */
export type Manifest = ReadonlyMap<string, string>;

/** One key that differs: its hash in the target, or undefined when the target dropped it. */
export interface DiffEntry {
  key: string;
  hash: string | undefined;
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The keys whose value differs between `base` and `target`, in key order:
 * change-only transfer (seed 001: "copied … only if the data has changed"),
 * decided per key by the hash of its value. Without a base, every key of
 * the target.
 */
export function diffVersions(base: Manifest | undefined, target: Manifest): DiffEntry[] {
  const out: DiffEntry[] = [];
  for (const [key, hash] of target) if (base?.get(key) !== hash) out.push({ key, hash });
  if (base) for (const key of base.keys()) if (!target.has(key)) out.push({ key, hash: undefined });
  return out.sort((a, b) => byKey(a.key, b.key));
}

/** Index of the first entry whose key is after `after` ('' = from the start). */
function firstAfter(diff: readonly DiffEntry[], after: string): number {
  if (after === '') return 0;
  let lo = 0;
  let hi = diff.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (diff[mid]!.key <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of a diff after the cursor key, at most `maxBytes` of entries
 * (but always one, so any value fits a page of its own).
 */
export function pageOf(diff: readonly DiffEntry[], after: string, maxBytes: number, valueOf: (hash: string) => Buffer): { entries: Entry[]; more: boolean } {
  const entries: Entry[] = [];
  let bytes = 0;
  let i = firstAfter(diff, after);
  for (; i < diff.length; i++) {
    const d = diff[i]!;
    const value = d.hash === undefined ? undefined : valueOf(d.hash);
    const n = entrySize(d.key, value);
    if (entries.length > 0 && bytes + n > maxBytes) break;
    entries.push({ key: d.key, value });
    bytes += n;
  }
  return { entries, more: i < diff.length };
}
