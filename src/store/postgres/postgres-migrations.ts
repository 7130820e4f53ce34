import { CorralError } from '../../protocol/corral-error.js';
import { migration001Metadata } from './migrations/migration-001-metadata.js';
import { migration002MessageLog } from './migrations/migration-002-message-log.js';
import { migration003ProducerWindow } from './migrations/migration-003-producer-window.js';
import type { PostgresMigration } from './migrations/postgres-migration.js';
import { checkSchemaName, type PostgresSql } from './postgres-connection.js';

/** Every migration, in version order. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [migration001Metadata, migration002MessageLog, migration003ProducerWindow];

/** The schema version this code expects. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

/** First key of the advisory lock that serialises migrations ("Corr"); the second is the schema's hash. */
const MIGRATION_LOCK_CLASS = 0x436f7272;

/**
 * Brings `schema` up to POSTGRES_SCHEMA_VERSION and returns the version it
 * found. Hubs that start together all call this: a transaction-scoped
 * advisory lock lets one migrate while the others wait, after which they find
 * the schema current and apply nothing. DDL is transactional in PostgreSQL, so
 * a migration that fails leaves the schema as it was. The applied versions
 * are recorded in `corral_schema_migrations`.
 */
export async function migratePostgres(sql: PostgresSql, schema: string): Promise<number> {
  checkSchemaName(schema);
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_CLASS}::int, hashtext(${schema}))`;
    // Create the schema only when missing: an operator may have created it for
    // a role that may not create schemas in the database.
    const existing = await tx`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`;
    if (existing.length === 0) await tx.unsafe(`CREATE SCHEMA ${schema}`);
    await tx.unsafe(`SET LOCAL search_path TO ${schema}`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS corral_schema_migrations (
      version    int PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const [row] = await tx<[{ version: number }]>`SELECT coalesce(max(version), 0)::int AS version FROM corral_schema_migrations`;
    const found = row?.version ?? 0;
    if (found > POSTGRES_SCHEMA_VERSION) {
      throw new CorralError('STORE_UNAVAILABLE',
        `PostgreSQL schema ${schema} is at version ${found}, newer than this Corral knows (${POSTGRES_SCHEMA_VERSION}); upgrade Corral`);
    }
    for (const m of POSTGRES_MIGRATIONS) {
      if (m.version <= found) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO corral_schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
    }
    return found;
  });
}
