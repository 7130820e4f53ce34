import type { PostgresMigration } from './postgres-migration.js';

/**
 * Migration 001: the MetadataStore.
 *
 * - `corral_metadata`: one row per key. Keys use the "C" collation so that
 *   order and prefix ranges are by code point, whatever the database locale.
 *   A row is live unless it has lapsed (`expires_at`, store-clock ms, has
 *   passed) or its owner session has ended (`owner_session`, ephemeral keys);
 *   a row that is not live is absent to every reader, and is kept so that a
 *   re-created key continues its version.
 * - `corral_now_ms()`: the one clock every hub shares for leases, the
 *   database's statement time in ms since epoch (one value per statement).
 * - Store sessions, for ephemeral keys: a store session is one dedicated
 *   database connection that holds the advisory lock
 *   (corral_session_class(), id). PostgreSQL releases it the moment that
 *   connection ends, closed or broken, including when the hub process is
 *   killed and the kernel closes its socket; `pg_locks` shows which sessions
 *   hold theirs, to every role.
 *   - `corral_session_ids`: session ids, unique per schema.
 *   - `corral_session_class()`: the first advisory lock key, per schema, so
 *     two Corral schemas in one database never see each other's sessions.
 *   - `corral_session_start()`: takes the next id and its lock, in the
 *     calling session; returns the id.
 * - `corral_entry_live(expires_at, owner_session)`: the one liveness test of
 *   every read, delete and compare-and-set.
 * - `corral_put(...)`: compare-and-set put, see its header below.
 */
export const migration001Metadata: PostgresMigration = {
  version: 1,
  name: 'metadata',
  sql: `
CREATE TABLE corral_metadata (
  key           text COLLATE "C" PRIMARY KEY,
  value         text NOT NULL,
  version       bigint NOT NULL,
  expires_at    bigint,
  owner_session int
);

CREATE FUNCTION corral_now_ms() RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint $$;

CREATE SEQUENCE corral_session_ids AS int MINVALUE 1 CYCLE;

CREATE FUNCTION corral_session_class() RETURNS int
LANGUAGE sql STABLE
AS $$ SELECT hashtext('corral.session.' || current_schema()) $$;

CREATE FUNCTION corral_session_start() RETURNS int
LANGUAGE plpgsql
AS $$
DECLARE
  v_id int;
BEGIN
  -- An id still held after the sequence wrapped around is skipped.
  LOOP
    v_id := nextval('corral_session_ids');
    EXIT WHEN pg_try_advisory_lock(corral_session_class(), v_id);
  END LOOP;
  RETURN v_id;
END
$$;

CREATE FUNCTION corral_entry_live(p_expires_at bigint, p_session int) RETURNS boolean
LANGUAGE sql STABLE
AS $$
  SELECT (p_expires_at IS NULL OR p_expires_at > corral_now_ms())
     AND (p_session IS NULL OR EXISTS (
           SELECT 1 FROM pg_locks AS l
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = corral_session_class()::oid AND l.objid = p_session::oid))
$$;

-- corral_put: the MetadataStore's put, as one atomic step.
--
-- Inputs:  p_key, p_value
--          p_expected  NULL = unconditional; 0 = the key must be absent or
--                      not live; n > 0 = the key must be live at version n
--          p_ttl_ms    NULL = no expiry; else the entry lapses p_ttl_ms after
--                      corral_now_ms()
--          p_session   NULL = an ordinary key; else the id of the caller's
--                      store session (corral_session_start), which must be live
-- Outputs: ok = true   written; cur_* describe the new entry (cur_version is
--                      the previous version + 1, or 1 for a new key)
--          ok = false  refused; cur_* describe the live entry that made the
--                      compare fail, or are all NULL when the key is absent
--                      or not live
-- Errors:  CR003       p_session is not live: the session ended before the
--                      write, which stores nothing
-- Each statement reads a fresh snapshot (READ COMMITTED), so a refusal caused
-- by a concurrent winner reports the winner's entry.
CREATE FUNCTION corral_put(p_key text, p_value text, p_expected bigint, p_ttl_ms bigint, p_session int,
  OUT ok boolean, OUT cur_version bigint, OUT cur_value text, OUT cur_expires_at bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  v_expires bigint := corral_now_ms() + p_ttl_ms;
BEGIN
  IF p_session IS NOT NULL AND NOT corral_entry_live(NULL, p_session) THEN
    RAISE EXCEPTION 'store session % has ended', p_session USING ERRCODE = 'CR003';
  END IF;
  IF p_expected IS NULL OR p_expected = 0 THEN
    INSERT INTO corral_metadata AS m (key, value, version, expires_at, owner_session)
    VALUES (p_key, p_value, 1, v_expires, p_session)
    ON CONFLICT (key) DO UPDATE
      SET value = excluded.value, version = m.version + 1, expires_at = excluded.expires_at,
          owner_session = excluded.owner_session
      WHERE p_expected IS NULL OR NOT corral_entry_live(m.expires_at, m.owner_session)
    RETURNING m.version INTO cur_version;
  ELSE
    UPDATE corral_metadata AS m
      SET value = p_value, version = m.version + 1, expires_at = v_expires, owner_session = p_session
      WHERE m.key = p_key AND m.version = p_expected AND corral_entry_live(m.expires_at, m.owner_session)
    RETURNING m.version INTO cur_version;
  END IF;
  IF cur_version IS NOT NULL THEN
    ok := true;
    cur_value := p_value;
    cur_expires_at := v_expires;
    RETURN;
  END IF;
  ok := false;
  SELECT m.version, m.value, m.expires_at INTO cur_version, cur_value, cur_expires_at
    FROM corral_metadata AS m
    WHERE m.key = p_key AND corral_entry_live(m.expires_at, m.owner_session);
END
$$;
`,
};
