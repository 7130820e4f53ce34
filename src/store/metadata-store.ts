/**
 * Small versioned key/value store for everything that is not a message:
 * subscriptions and their cursors, topic configuration, and (cluster) hub
 * membership, leases, ownership with fencing epochs, load reports.
 *
 * Keys are strings; callers build them with `metaKey` so that a name can never
 * run into its neighbour ("|" is not allowed in topic or subscription names).
 * Values are strings (JSON by convention). Every write bumps the key's version;
 * compare-and-set on the version is how racing hubs agree on one winner.
 */
export interface MetadataEntry {
  key: string;
  value: string;
  /**
   * Starts at 1 on creation, +1 on every write. A lapsed key that is written
   * again continues from its last version (so a holder of the old version can
   * never match the new entry); a deleted key starts again at 1.
   */
  version: number;
  /** Store-clock time (ms since epoch) at which the key lapses, or undefined. */
  expiresAt: number | undefined;
}

/**
 * A fenced write happens only while the number stored at `key` is absent or
 * not above `epoch`: once a newer owner of a resource raised its fence, a
 * stale owner's writes are refused (FENCED) in the same transaction that
 * checks, so none can land after the raise.
 */
export interface Fence {
  key: string;
  epoch: number;
}

export interface PutOptions {
  /**
   * Compare-and-set: undefined = unconditional; 0 = the key must not exist
   * (a lapsed key counts as absent); n = the current version must be n.
   */
  expectedVersion?: number;
  /** The key lapses this many ms after the write, by the store's own clock (leases). */
  ttlMs?: number;
  /**
   * The key lives only as long as the store session that wrote it: when that
   * process dies (its store connection closes), the key is absent to every
   * reader at once, without waiting for a TTL. Cluster liveness uses it so a
   * killed hub's topics move in well under a second.
   */
  ephemeral?: boolean;
  /** Refused with CorralError FENCED when the fence was raised above its epoch. */
  fence?: Fence;
}

export interface ManyEntry {
  key: string;
  value: string;
  /** The entry is skipped (false in the result) when the fence was raised above its epoch. */
  fence?: Fence;
}

/** Writes that land together under one fence (see MetadataStore.writeBatch). */
export interface MetadataBatch {
  /** Keys created or replaced (no TTL); each version grows by 1 as with put. */
  puts: ReadonlyArray<{ key: string; value: string }>;
  /** Keys deleted (an absent key is ignored); a key also among `puts` is written, not deleted. */
  deletes: readonly string[];
}

export type PutResult =
  | { ok: true; version: number }
  | { ok: false; current: MetadataEntry | undefined };

export interface MetadataStore {
  /** The entry, or undefined if absent or lapsed. */
  get(key: string): Promise<MetadataEntry | undefined>;
  put(key: string, value: string, opts?: PutOptions): Promise<PutResult>;
  /** Several writes in one transaction (cursor flushes); per entry, true if written, false if fenced. */
  putMany(entries: ReadonlyArray<ManyEntry>): Promise<boolean[]>;
  /**
   * Puts and deletes in one transaction under one fence: all of them land,
   * or, when the fence was raised above its epoch, none and CorralError
   * FENCED. A service keeping many small entries per resource writes only
   * those that changed, atomically with its own counters.
   */
  writeBatch(fence: Fence, batch: MetadataBatch): Promise<void>;
  /**
   * Deletes the key; with expectedVersion, only if it matches. True if a key
   * was deleted. With a fence raised above its epoch: CorralError FENCED.
   */
  delete(key: string, expectedVersion?: number, fence?: Fence): Promise<boolean>;
  /** Live (not lapsed) entries whose key starts with prefix, in key order. */
  list(prefix: string): Promise<MetadataEntry[]>;
  /** The store's clock in ms since epoch: the one clock all hubs share for leases. */
  now(): Promise<number>;
  close(): Promise<void>;
}

/** Builds a metadata key from parts: metaKey('sub', topic, name) → "sub|topic|name". */
export function metaKey(...parts: string[]): string {
  return parts.join('|');
}
