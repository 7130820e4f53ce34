import postgres from 'postgres';
import { CorralError } from '../../protocol/corral-error.js';

/** SQLSTATEs raised by Corral's own functions (migrations 001, 002). */
const SQLSTATE_SEQ_GAP = 'CR001';
const SQLSTATE_UNCLAIMED_TOPIC = 'CR002';
const SQLSTATE_SESSION_ENDED = 'CR003';

/** Driver errors (and socket errnos) that mean the server is gone or unreachable. */
const CONNECTION_ERRORS = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);

/**
 * SQLSTATE classes after which the same request can succeed later: 08 connection
 * exception, 40 transaction rollback (serialization failure, deadlock), 53
 * insufficient resources, 57 operator intervention (shutdown, restart), 58
 * system error (I/O); plus 25006, a read-only session (a standby after failover).
 */
const RETRYABLE_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57', '58']);

function hasCode(err: unknown): err is Error & { code: unknown } {
  return err instanceof Error && 'code' in err;
}

/**
 * The one place PostgreSQL and driver failures become Corral errors, so every
 * method of both stores fails the same way: an outage is STORE_UNAVAILABLE
 * (retryable), a caller bug or an unexpected SQL error is INTERNAL.
 */
export function postgresStoreError(err: unknown): Error {
  if (err instanceof CorralError) return err;
  if (err instanceof postgres.PostgresError) {
    // A caller bug, never a store failure.
    if (err.code === SQLSTATE_SEQ_GAP || err.code === SQLSTATE_UNCLAIMED_TOPIC) {
      return new CorralError('INTERNAL', err.message, { cause: err });
    }
    if (err.code === SQLSTATE_SESSION_ENDED) {
      return new CorralError('STORE_UNAVAILABLE', `PostgreSQL: ${err.message}`, { cause: err });
    }
    if (RETRYABLE_SQLSTATE_CLASSES.has(err.code.slice(0, 2)) || err.code === '25006') {
      return new CorralError('STORE_UNAVAILABLE', `PostgreSQL: ${err.message}`, { cause: err });
    }
    return new CorralError('INTERNAL', `PostgreSQL ${err.code}: ${err.message}`, { cause: err });
  }
  if (isConnectionLost(err)) {
    return new CorralError('STORE_UNAVAILABLE', `PostgreSQL unreachable: ${err.message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** True when the driver lost (or could not open) its connection to the server. */
function isConnectionLost(err: unknown): err is Error {
  return hasCode(err) && typeof err.code === 'string' && CONNECTION_ERRORS.has(err.code);
}

/** True when an ephemeral write failed because the writer's store session had ended. */
export function isSessionEnded(err: unknown): boolean {
  return err instanceof postgres.PostgresError && err.code === SQLSTATE_SESSION_ENDED;
}

/**
 * Runs a store operation, turning its failure into a Corral error. With a
 * deadline, an operation still unanswered by then fails as STORE_UNAVAILABLE:
 * a server whose machine vanished without a reset leaves a query waiting on
 * TCP retransmissions for many minutes, and the driver can lose a query sent
 * just as its connection breaks (porsager/postgres#1130), which then never
 * settles. Whether the abandoned operation took effect is unknown, as after
 * any lost connection; the caller treats it the same way.
 */
export async function guardStore<T>(op: () => Promise<T>, deadlineMs?: number, onExpired?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    if (deadlineMs === undefined) return await op();
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onExpired?.();
        reject(new CorralError('STORE_UNAVAILABLE', `PostgreSQL did not answer within ${deadlineMs} ms`));
      }, deadlineMs);
    });
    return await Promise.race([op(), expired]);
  } catch (err) {
    throw postgresStoreError(err);
  } finally {
    clearTimeout(timer);
  }
}
