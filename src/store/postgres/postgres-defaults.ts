/**
 * Defaults of a hub over PostgreSQL, apart from the driver: the CLI reads
 * them without loading it (a standalone hub never does).
 */

/** A store operation unanswered this long fails as STORE_UNAVAILABLE. */
export const DEFAULT_STORE_TIMEOUT_MS = 30_000;
