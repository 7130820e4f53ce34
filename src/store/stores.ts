import type { MessageLog } from './message-log.js';
import type { MetadataStore } from './metadata-store.js';

/** The two stores a hub runs on, opened together from one location. */
export interface Stores {
  metadata: MetadataStore;
  log: MessageLog;
  /** Closes both. */
  close(): Promise<void>;
}

/**
 * How a commit is made durable:
 *  - "fsync": the commit is on disk before it is acknowledged; survives power loss (default).
 *  - "process": the commit is in the OS page cache; survives a crash of the hub
 *    process, not of the machine.
 */
export type Durability = 'fsync' | 'process';
