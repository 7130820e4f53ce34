import type { Durability, Stores } from '../stores.js';
import { SqliteDatabase } from './sqlite-database.js';
import { SqliteMessageLog } from './sqlite-message-log.js';
import { SqliteMetadataStore } from './sqlite-metadata-store.js';

/**
 * Opens both stores of a standalone hub on one SQLite file (e.g.
 * `<dataDir>/corral.db`), sharing one connection. Creates the file and its
 * parent directories when missing.
 */
export function openSqliteStores(opts: { path: string; durability: Durability }): Stores {
  const db = SqliteDatabase.open(opts);
  const metadata = new SqliteMetadataStore(db);
  const log = new SqliteMessageLog(db);
  return {
    metadata,
    log,
    async close() {
      await Promise.all([metadata.close(), log.close()]);
    },
  };
}
