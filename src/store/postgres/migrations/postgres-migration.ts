/**
 * One step of the PostgreSQL schema. Migrations are applied in version order,
 * each exactly once per schema, inside one transaction; a migration is never
 * edited after release: a change is a new migration.
 */
export interface PostgresMigration {
  /** 1, 2, 3, … without gaps. */
  version: number;
  name: string;
  /** Statements run with the session's search_path set to the target schema. */
  sql: string;
}
