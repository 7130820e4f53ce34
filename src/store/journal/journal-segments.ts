import { writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CorralError } from '../../protocol/corral-error.js';
import type { Durability } from '../stores.js';
import { decodeEntryAt, type JournalEntry } from './journal-entry.js';

const SEGMENT = /^segment-(\d{16})\.log$/;

function segmentName(firstEntryId: number): string {
  return `segment-${String(firstEntryId).padStart(16, '0')}.log`;
}

interface Segment {
  path: string;
  /** Highest entry id written to it; 0 while empty. */
  lastEntryId: number;
}

/** What was found in the journal on open. */
export interface JournalContents {
  entries: JournalEntry[];
  /** A torn last write that was cut off: its file and the bytes dropped. */
  cut: { path: string; bytes: number } | undefined;
}

/**
 * The journal's files: entries are appended to the active segment with one
 * write (synchronous: a copy into the page cache) and (durability fsync) one
 * fdatasync each, off the event loop; a segment is sealed once
 * it is large, and deleted once the store behind holds all of its entries.
 * Every operation runs in turn, so a seal never overlaps a write.
 */
export class JournalSegments {
  #active: FileHandle;
  #activeBytes = 0;
  readonly #segments: Segment[];
  #ops: Promise<unknown> = Promise.resolve();
  #broken: Error | undefined;

  private constructor(
    private readonly dir: string,
    private readonly durability: Durability,
    private readonly segmentBytes: number,
    active: FileHandle,
    segments: Segment[],
  ) {
    this.#active = active;
    this.#segments = segments;
  }

  /**
   * Opens the journal in `dir`: reads every entry, cuts a torn tail off the
   * last segment, and starts a new active segment after them. The caller
   * replays the entries into the store, then `retire`s them.
   */
  static async open(dir: string, durability: Durability, segmentBytes: number):
  Promise<{ journal: JournalSegments; contents: JournalContents; lastEntryId: number }> {
    await mkdir(dir, { recursive: true });
    const names = (await readdir(dir)).filter((n) => SEGMENT.test(n)).sort();
    const entries: JournalEntry[] = [];
    const segments: Segment[] = [];
    let cut: JournalContents['cut'];
    let lastEntryId = 0;
    for (const [i, name] of names.entries()) {
      const path = join(dir, name);
      const bytes = await readFile(path);
      const before = entries.length;
      let offset = 0;
      while (offset < bytes.length) {
        const r = decodeEntryAt(bytes, offset);
        if ('defect' in r) {
          // Only the last write can be torn; a defect anywhere else is damage, not a crash.
          if (i !== names.length - 1) {
            throw new CorralError('STORE_UNAVAILABLE', `journal segment ${path} is damaged at byte ${offset} (${r.defect}) and is not the last one; `
              + 'the hub refuses to start rather than skip acknowledged messages');
          }
          await truncate(path, offset);
          cut = { path, bytes: bytes.length - offset };
          break;
        }
        if (r.entry.entryId <= lastEntryId) {
          throw new CorralError('STORE_UNAVAILABLE', `journal segment ${path}: entry ${r.entry.entryId} after ${lastEntryId}; the journal is damaged`);
        }
        lastEntryId = r.entry.entryId;
        entries.push(r.entry);
        offset = r.next;
      }
      if (entries.length === before) await unlink(path);
      else segments.push({ path, lastEntryId });
    }
    const path = join(dir, segmentName(lastEntryId + 1));
    const active = await open(path, 'a');
    segments.push({ path, lastEntryId: 0 });
    const journal = new JournalSegments(dir, durability, segmentBytes, active, segments);
    await journal.#syncDir();
    return { journal, contents: { entries, cut }, lastEntryId };
  }

  /** Appends one encoded entry; resolves once it is as durable as the durability mode says. */
  append(entryId: number, bytes: Buffer): Promise<void> {
    return this.#serial(async () => {
      if (this.#broken) throw new CorralError('STORE_UNAVAILABLE', `the journal failed earlier (${this.#broken.message}); restart the hub`);
      try {
        // The write only copies into the page cache: on the event loop it takes
        // microseconds, where the trip through the thread pool and back doubled
        // W2's p99 in process mode (docs/benchmarks.md). The fdatasync, which
        // waits for the disk, stays off the loop.
        let written = 0;
        while (written < bytes.length) written += writeSync(this.#active.fd, bytes, written, bytes.length - written);
        if (this.durability === 'fsync') await this.#active.datasync();
      } catch (err) {
        // After a failed write or fdatasync the file's tail is unknown (and the
        // kernel may have dropped the pages): nothing more may be appended.
        this.#broken = err as Error;
        throw new CorralError('STORE_UNAVAILABLE', `journal write failed: ${(err as Error).message}`, { cause: err });
      }
      this.#activeBytes += bytes.length;
      this.#segments[this.#segments.length - 1]!.lastEntryId = entryId;
    });
  }

  /**
   * The store holds every entry up to `entryId`: seals the active segment if
   * it has grown large, and deletes the sealed segments the store now holds
   * in full, once `makeHeldDurable` has made the store's copy durable.
   */
  retire(entryId: number, makeHeldDurable: () => Promise<void>): Promise<void> {
    return this.#serial(async () => {
      if (this.#broken) return;
      const active = this.#segments[this.#segments.length - 1]!;
      if (this.#activeBytes >= this.segmentBytes) {
        await this.#active.close();
        const path = join(this.dir, segmentName(active.lastEntryId + 1));
        this.#active = await open(path, 'a');
        this.#activeBytes = 0;
        this.#segments.push({ path, lastEntryId: 0 });
        await this.#syncDir();
      }
      const held = (): boolean => this.#segments.length > 1 && this.#segments[0]!.lastEntryId <= entryId;
      if (!held()) return;
      await makeHeldDurable();
      while (held()) await unlink(this.#segments.shift()!.path);
    });
  }

  /** Segments on disk, oldest first (for tests and stats). */
  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Closes the active segment; with `allHeld` (the store holds every entry) deletes every segment. */
  close(allHeld: boolean): Promise<void> {
    return this.#serial(async () => {
      await this.#active.close();
      if (allHeld && !this.#broken) for (const s of this.#segments.splice(0)) await unlink(s.path);
    });
  }

  /** A new segment's name must survive a power loss as well as its contents. */
  async #syncDir(): Promise<void> {
    if (this.durability !== 'fsync') return;
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#ops.then(op, op);
    this.#ops = run.catch(() => undefined);
    return run;
  }
}
