import type { Logger } from 'pino';
import { withJournal } from '../journal/with-journal.js';
import type { JournaledLogOptions } from '../journal/journaled-log.js';
import type { Durability, Stores } from '../stores.js';
import { openSqliteStores } from './open-sqlite-stores.js';
import { SqliteWriteBehind } from './sqlite-write-behind.js';

export interface StandaloneStoresOptions extends Pick<JournaledLogOptions, 'flushIntervalMs' | 'flushRecords' | 'segmentBytes'> {
  /** The SQLite file, e.g. `<dataDir>/corral.db`. */
  path: string;
  /** The journal's directory, e.g. `<dataDir>/journal`. */
  journalDir: string;
  durability: Durability;
  logger?: Logger;
}

/**
 * The stores of a standalone hub: SQLite for both, with the journal in front
 * of the message log as the ack path and the write-behind into SQLite done
 * by a worker thread on its own connection (docs/decisions/journal.md,
 * docs/decisions/write-behind-worker.md).
 */
export async function openStandaloneStores(opts: StandaloneStoresOptions): Promise<Stores> {
  const { path, journalDir, durability, ...rest } = opts;
  const sqlite = openSqliteStores({ path, durability });
  return withJournal(sqlite, { ...rest, dir: journalDir, durability, writeBehind: (inner) => new SqliteWriteBehind({ path, durability }, inner) });
}
