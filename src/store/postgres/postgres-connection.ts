import postgres from 'postgres';
import { CorralError } from '../../protocol/corral-error.js';
import { ARRAY_TYPES } from './postgres-array-types.js';

/**
 * bigint columns (seqs, epochs, versions, ms timestamps) come back as numbers:
 * every such value Corral stores is below 2^53.
 */
const TYPES = {
  int8: { to: 20, from: [20], serialize: (x: number): string => String(x), parse: (x: string): number => Number(x) },
  ...ARRAY_TYPES,
};

type CorralTypes = { [K in keyof typeof TYPES]: Parameters<(typeof TYPES)[K]['serialize']>[0] };
export type PostgresSql = postgres.Sql<CorralTypes>;
/** A pool or a transaction: what a query needs. */
export type PostgresQueryable = postgres.ISql<CorralTypes>;

/** Schemas Corral creates itself: a plain identifier, so it never needs quoting. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new CorralError('INVALID_ARGUMENT', `PostgreSQL schema name ${JSON.stringify(schema)} must match ${String(SCHEMA_NAME)}`);
  }
}

export interface PostgresConnectOptions {
  url: string;
  /** Every table and function Corral uses lives here (the session's search_path). */
  schema: string;
  /** Connections in the pool. */
  max: number;
  /** "on": a commit returns once its WAL is flushed; "off": once it is in the server's WAL buffers. */
  synchronousCommit: 'on' | 'off';
  /**
   * Keep each connection for as long as it works (no recycling after a
   * lifetime), and call `onclose` when one ends: for a session whose
   * identity is its connection.
   */
  dedicated?: { onclose: () => void };
}

/**
 * A connection pool whose every session runs with Corral's search_path and
 * synchronous_commit, set as startup parameters so they hold for the whole
 * session, reconnects included (the driver connects lazily, on the first
 * query, and reconnects the same way).
 */
export function createPostgresPool(opts: PostgresConnectOptions): PostgresSql {
  checkSchemaName(opts.schema);
  return postgres(opts.url, {
    max: opts.max,
    types: TYPES,
    // Array types are named, not discovered (postgres-array-types.ts).
    fetch_types: false,
    // Fail fast when the server is down or unreachable: the caller turns it into STORE_UNAVAILABLE.
    connect_timeout: 10,
    onnotice: () => undefined,
    ...(opts.dedicated ? { max_lifetime: null, idle_timeout: 0, onclose: opts.dedicated.onclose } : {}),
    connection: {
      application_name: 'corral',
      search_path: opts.schema,
      synchronous_commit: opts.synchronousCommit,
      // A dedicated session also ends when its client's machine vanishes
      // without closing the socket: the server probes it after 10 s idle.
      ...(opts.dedicated ? { tcp_keepalives_idle: 10, tcp_keepalives_interval: 5, tcp_keepalives_count: 3 } : {}),
    },
  });
}

/** createPostgresPool, resolved after a first query: an unreachable server fails here, at start. */
export async function connectPostgres(opts: PostgresConnectOptions): Promise<PostgresSql> {
  const sql = createPostgresPool(opts);
  try {
    await sql`SELECT 1`;
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
  return sql;
}
