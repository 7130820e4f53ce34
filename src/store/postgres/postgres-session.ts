import { createPostgresPool, type PostgresSql } from './postgres-connection.js';
import { guardStore } from './postgres-store-error.js';

/** One store session: its own connection, and the id its advisory lock holds. */
interface LiveSession {
  sql: PostgresSql;
  id: Promise<number>;
}

/**
 * The store session that keeps this store's ephemeral metadata keys alive
 * (migration 001): one dedicated connection holding the session's advisory
 * lock. It starts on the first ephemeral write. When the connection ends, by
 * close, by a broken socket or by a database restart, every key written under
 * it vanishes, and the next ephemeral write starts a new session.
 *
 * Each session opens a connection pool of its own and ends it with the
 * session: a pool whose one connection the server terminated could leave the
 * next query writing to the dead socket, or waiting on it for good.
 */
export class PostgresSession {
  private live: LiveSession | undefined;

  constructor(
    private readonly url: string,
    private readonly schema: string,
    /** A session start unanswered by then fails, and the next write starts another; undefined = no limit. */
    private readonly deadlineMs?: number,
  ) {}

  /** The id of the live session, starting one if there is none. */
  id(): Promise<number> {
    this.live ??= this.start();
    return this.live.id;
  }

  /** The session is over (its connection closed, or a write found it gone). */
  ended(): void {
    const over = this.live;
    this.live = undefined;
    if (over) over.sql.end({ timeout: 0 }).catch(() => undefined);
  }

  private start(): LiveSession {
    const sql = createPostgresPool({
      url: this.url, schema: this.schema, max: 1, synchronousCommit: 'on',
      // Only this session's own connection ends it, not one of an earlier session.
      dedicated: { onclose: () => { if (this.live?.sql === sql) this.ended(); } },
    });
    const id = guardStore(async () => {
      const [row] = await sql<[{ id: number }]>`SELECT corral_session_start() AS id`;
      if (row === undefined) throw new Error('corral_session_start returned no row');
      return row.id;
    }, this.deadlineMs);
    id.catch(() => { if (this.live?.sql === sql) this.ended(); });
    return { sql, id };
  }

  /** Releases the session's lock before disconnecting, so its keys are gone when close resolves. */
  async close(): Promise<void> {
    const last = this.live;
    this.live = undefined;
    if (!last) return;
    const id = await last.id.catch(() => undefined);
    if (id !== undefined) await last.sql`SELECT pg_advisory_unlock(corral_session_class(), ${id})`.catch(() => undefined);
    await last.sql.end({ timeout: 5 });
  }
}
