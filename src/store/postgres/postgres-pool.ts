import { createPostgresPool, type PostgresConnectOptions, type PostgresSql } from './postgres-connection.js';
import { guardStore } from './postgres-store-error.js';

/**
 * A store's connection pool, replaced when an operation outlives its
 * deadline. The connection such an operation holds is stuck (a server gone
 * silent, or a query the driver lost): it would stay busy for good, and a
 * pool whose every connection is stuck serves nothing even once the server
 * is back. Ending the pool closes its sockets; the operations still on it
 * fail as STORE_UNAVAILABLE and are retried on the new one.
 */
export class PostgresPool {
  #sql: PostgresSql;

  constructor(
    private readonly opts: PostgresConnectOptions,
    first: PostgresSql,
    /** An operation unanswered by then fails; undefined = no limit. */
    private readonly deadlineMs: number | undefined,
  ) {
    this.#sql = first;
  }

  get sql(): PostgresSql {
    return this.#sql;
  }

  /** Runs a store operation on this pool (guardStore), replacing the pool if the operation outlives the deadline. */
  guard<T>(op: () => Promise<T>): Promise<T> {
    const sql = this.#sql;
    return guardStore(op, this.deadlineMs, () => this.#replace(sql));
  }

  end(): Promise<void> {
    return this.#sql.end({ timeout: 5 });
  }

  #replace(stuck: PostgresSql): void {
    if (this.#sql !== stuck) return;
    this.#sql = createPostgresPool(this.opts);
    stuck.end({ timeout: 0 }).catch(() => undefined);
  }
}
