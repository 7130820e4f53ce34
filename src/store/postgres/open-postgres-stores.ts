import type { Durability, Stores } from '../stores.js';
import { connectPostgres, type PostgresConnectOptions, type PostgresSql } from './postgres-connection.js';
import { DEFAULT_STORE_TIMEOUT_MS } from './postgres-defaults.js';
import { PostgresMessageLog } from './postgres-message-log.js';
import { PostgresMetadataStore } from './postgres-metadata-store.js';
import { migratePostgres } from './postgres-migrations.js';
import { PostgresPool } from './postgres-pool.js';
import { PostgresSession } from './postgres-session.js';
import { guardStore } from './postgres-store-error.js';

export interface OpenPostgresStoresOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  durability: Durability;
  /** Schema holding Corral's tables (created if missing); default "public". */
  schema?: string;
  /** Connections of the message log's pool (appends, reads, trims); default 8. */
  logConnections?: number;
  /** Connections of the metadata pool; default 4. */
  metadataConnections?: number;
  /**
   * A store operation unanswered this long fails as STORE_UNAVAILABLE (the
   * schema migration at open excepted); default 30 s.
   */
  timeoutMs?: number;
}

/**
 * Opens both stores on one PostgreSQL database, migrating its schema first
 * (many hubs may open it at once; see migratePostgres).
 *
 * Durability maps to PostgreSQL's `synchronous_commit`, set for every session
 * of the message log's pool:
 *  - "fsync" → on: an append is acknowledged once its WAL is flushed to disk
 *    on the server (and on synchronous standbys, if the server has any).
 *  - "process" → off: an append is acknowledged once it is in the server's WAL
 *    buffers; the server flushes them within 3 × wal_writer_delay (600 ms by
 *    default). A crash of a hub loses nothing acknowledged, because the
 *    committed data is the database server's, not the hub's; a crash of the
 *    PostgreSQL server or its machine may lose the appends of that last
 *    interval: whole transactions, the latest ones, never a part of one and
 *    never corrupting the database.
 *
 * Coordination state is always durable: the metadata pool runs with
 * synchronous_commit on and a topic claim forces it for its transaction,
 * because a lease, an ownership or an epoch that a database crash could take
 * back after a hub acted on it would let two hubs own the same topic.
 *
 * Each store has its own pool, so a long catch-up read never queues a lease
 * renewal. The metadata store also opens, on its first ephemeral write, one
 * dedicated connection whose lifetime is the lifetime of its ephemeral keys
 * (PostgresSession).
 */
export async function openPostgresStores(opts: OpenPostgresStoresOptions): Promise<Stores> {
  const schema = opts.schema ?? 'public';
  const logSynchronousCommit = opts.durability === 'fsync' ? 'on' : 'off';
  return guardStore(async () => {
    const migrator = await connectPostgres({ url: opts.url, schema, max: 1, synchronousCommit: 'on' });
    try {
      await migratePostgres(migrator, schema);
    } finally {
      await migrator.end({ timeout: 5 });
    }
    const metadataOpts: PostgresConnectOptions = { url: opts.url, schema, max: opts.metadataConnections ?? 4, synchronousCommit: 'on' };
    const metadataSql = await connectPostgres(metadataOpts);
    let logSql: PostgresSql;
    const logConnections = opts.logConnections ?? 8;
    const logOpts: PostgresConnectOptions = { url: opts.url, schema, max: logConnections, synchronousCommit: logSynchronousCommit };
    try {
      logSql = await connectPostgres(logOpts);
    } catch (err) {
      await metadataSql.end({ timeout: 1 });
      throw err;
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    return postgresStores(
      new PostgresMetadataStore(new PostgresPool(metadataOpts, metadataSql, timeoutMs), new PostgresSession(opts.url, schema, timeoutMs)),
      new PostgresMessageLog(new PostgresPool(logOpts, logSql, timeoutMs), Math.max(1, Math.floor(logConnections / 2))),
    );
  });
}

function postgresStores(metadata: PostgresMetadataStore, log: PostgresMessageLog): Stores {
  return {
    metadata,
    log,
    close: async () => {
      await Promise.all([metadata.close(), log.close()]);
    },
  };
}
