import { createPostgresPool, type PostgresSql } from './postgres-connection.js';
import { isConnectionLost } from './postgres-store-error.js';

/**
 * The store session that keeps this store's ephemeral metadata keys alive
 * (migration 001): one dedicated connection holding the session's advisory
 * lock. It starts on the first ephemeral write. When the connection ends, by
 * close, by a broken socket or by a database restart, every key written under
 * it vanishes, and the next ephemeral write starts a new session.
 */
export class PostgresSession {
  private readonly sql: PostgresSql;
  private current: Promise<number> | undefined;

  constructor(url: string, schema: string) {
    this.sql = createPostgresPool({
      url, schema, max: 1, synchronousCommit: 'on',
      dedicated: { onclose: () => this.ended() },
    });
  }

  /** The id of the live session, starting one if there is none. */
  id(): Promise<number> {
    this.current ??= this.start();
    return this.current;
  }

  /** The session is over (its connection closed, or a write found it gone). */
  ended(): void {
    this.current = undefined;
  }

  private async start(): Promise<number> {
    try {
      return await this.startOnce();
    } catch (err) {
      if (!isConnectionLost(err)) {
        this.ended();
        throw err;
      }
    }
    // The session's connection was cut (a terminated backend, a database
    // restart) and the driver may learn it from this very query; it opens a
    // new connection for the next one, so one more try is not a retry storm.
    try {
      return await this.startOnce();
    } catch (err) {
      this.ended();
      throw err;
    }
  }

  private async startOnce(): Promise<number> {
    const [row] = await this.sql<[{ id: number }]>`SELECT corral_session_start() AS id`;
    if (row === undefined) throw new Error('corral_session_start returned no row');
    return row.id;
  }

  /** Releases the session's lock before disconnecting, so its keys are gone when close resolves. */
  async close(): Promise<void> {
    const id = await this.current?.catch(() => undefined);
    if (id !== undefined) await this.sql`SELECT pg_advisory_unlock(corral_session_class(), ${id})`.catch(() => undefined);
    await this.sql.end({ timeout: 5 });
  }
}
