-- Hits partitioned by month, so that retention drops whole months instead of deleting rows; the roles, views and
-- indexes auditors use. The same script serves a new database (hits_v2 below is then empty) and one at V2 with hits.
--
-- The partition key is occurred_at: when the alert happened, by the alert's own account. PostgreSQL requires the
-- partition key in every unique constraint, so the constraint that makes a retried alert add nothing becomes
-- (manager, alert_id, indicator_value, misp_attribute_uuid, occurred_at). That only works if a retry of the same
-- alert gets the same occurred_at, which rules out detected_at (a retry is detected later). Hence, in order:
--   1. the alert's "timestamp" (alert_timestamp): it travels with the alert, so every retry carries the same one;
--   2. else the time in a Wazuh alert id ("1755074541.11456929": epoch seconds, then the offset in alerts.json),
--      equally part of the alert;
--   3. else (an alert that is not from Wazuh, with neither) the first instant of the UTC month it was received in:
--      retries in the same month still collide; only a retry across a month boundary could add a second row.
-- hits_occurred_at() below is that rule; the INSERT of the application calls it, so it lives in one place.

CREATE FUNCTION hits_occurred_at(alert_timestamp timestamptz, alert_id text, received timestamptz)
    RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(alert_timestamp,
                    CASE WHEN alert_id ~ '^[0-9]{10}\.[0-9]+$'
                         THEN to_timestamp(split_part(alert_id, '.', 1)::bigint) END,
                    date_trunc('month', received AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
$$;
COMMENT ON FUNCTION hits_occurred_at(timestamptz, text, timestamptz) IS
    'Partition key of a hit: the alert timestamp, else the epoch in a Wazuh alert id, else the UTC month received';

-- ---- the V2 table steps aside; its names go to the new table ---------------------------------------------------
ALTER TABLE hits RENAME TO hits_v2;
ALTER TABLE hits_v2 DROP CONSTRAINT hits_pkey;
ALTER TABLE hits_v2 DROP CONSTRAINT hits_alert_indicator_attribute_key;
ALTER TABLE hits_v2 ALTER COLUMN id DROP IDENTITY;
DROP INDEX hits_detected_at_idx, hits_alert_timestamp_idx, hits_indicator_value_idx, hits_misp_event_uuid_idx,
    hits_agent_id_idx;

CREATE TABLE hits (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    -- when the alert happened (see hits_occurred_at): the partition key, and the time the API filters and sorts by
    occurred_at         timestamptz NOT NULL,
    -- the Wazuh alert: its id is unique per manager
    alert_id            text        NOT NULL,
    manager             text        NOT NULL,
    agent_id            text        NOT NULL,
    agent_name          text        NOT NULL,
    rule_id             text        NOT NULL,
    alert_timestamp     timestamptz,
    -- what was found, where, and which DRL rule pointed at it
    indicator_type      text        NOT NULL,
    indicator_value     text        NOT NULL,
    source_field        text        NOT NULL,
    drl_rule            text        NOT NULL,
    -- the MISP attribute it matched, and its event
    misp_event_id       text        NOT NULL,
    misp_event_uuid     text        NOT NULL,
    misp_event_info     text        NOT NULL,
    misp_attribute_uuid text        NOT NULL,
    misp_category       text        NOT NULL,
    misp_type           text        NOT NULL,
    misp_value          text        NOT NULL,
    misp_threat_level   smallint    NOT NULL,
    misp_to_ids         boolean     NOT NULL,
    misp_tags           text[]      NOT NULL,
    misp_instance       text        NOT NULL,
    -- how it was scored, by which rules of which rule set
    severity            smallint    NOT NULL CONSTRAINT hits_severity_check CHECK (severity BETWEEN 0 AND 15),
    suppressed          boolean     NOT NULL,
    decided_by          text[]      NOT NULL,
    labels              text[]      NOT NULL,
    ruleset_version     text        NOT NULL,
    correlator_version  text        NOT NULL,
    detected_at         timestamptz NOT NULL DEFAULT now(),
    alert               jsonb       NOT NULL,
    origin              text        NOT NULL DEFAULT 'live'
                                    CONSTRAINT hits_origin_check CHECK (origin IN ('live', 'retro-hunt')),
    looked_up_at        timestamptz,
    CONSTRAINT hits_pkey PRIMARY KEY (id, occurred_at),
    -- a retried alert adds nothing (occurred_at is part of the alert, see above)
    CONSTRAINT hits_alert_indicator_attribute_key
        UNIQUE (manager, alert_id, indicator_value, misp_attribute_uuid, occurred_at)
) PARTITION BY RANGE (occurred_at);

-- Rows for which no monthly partition exists (an archived alert older than the partitions, a clock far ahead)
-- land here; hits_maintain() moves them into their month once it has one, or lets retention take them.
CREATE TABLE hits_default PARTITION OF hits DEFAULT;

-- The API's filters and the documented queries: each filter column first, then the newest-first order, so a page is
-- an index range scan that stops after "limit" rows (newest partition first).
CREATE INDEX hits_occurred_at_idx ON hits (occurred_at, id);
CREATE INDEX hits_detected_at_idx ON hits (detected_at);
CREATE INDEX hits_occurred_day_idx ON hits (((occurred_at AT TIME ZONE 'UTC')::date));
CREATE INDEX hits_indicator_value_idx ON hits (indicator_value, occurred_at, id);
CREATE INDEX hits_agent_id_idx ON hits (agent_id, occurred_at, id);
CREATE INDEX hits_agent_name_idx ON hits (agent_name, occurred_at, id);
CREATE INDEX hits_misp_event_uuid_idx ON hits (misp_event_uuid, occurred_at, id);
CREATE INDEX hits_misp_event_id_idx ON hits (misp_event_id, occurred_at, id);
CREATE INDEX hits_rule_id_idx ON hits (rule_id, occurred_at, id);
CREATE INDEX hits_ruleset_version_idx ON hits (ruleset_version, occurred_at, id);

COMMENT ON TABLE hits IS 'One row per MISP attribute matched by an indicator of a Wazuh alert; partitioned by month of occurred_at';
COMMENT ON COLUMN hits.occurred_at IS 'When the alert happened: its timestamp, else the time in its Wazuh id (see hits_occurred_at); partition key';
COMMENT ON COLUMN hits.alert_timestamp IS 'The alert''s own timestamp, when it had a readable one';
COMMENT ON COLUMN hits.source_field IS 'Alert field the indicator was read from, as spelled in the alert';
COMMENT ON COLUMN hits.drl_rule IS 'DRL extraction rule that named the field';
COMMENT ON COLUMN hits.misp_instance IS 'The MISP (its URL) or feed (feed:<dir>) that answered';
COMMENT ON COLUMN hits.decided_by IS 'DRL scoring rules that set severity, labels or suppression, in firing order';
COMMENT ON COLUMN hits.suppressed IS 'Kept for audit but not sent to Wazuh';
COMMENT ON COLUMN hits.ruleset_version IS 'Content hash of the DRL files in force';
COMMENT ON COLUMN hits.correlator_version IS 'Version of misp-correlator that stored the hit';
COMMENT ON COLUMN hits.detected_at IS 'When the correlator stored the hit';
COMMENT ON COLUMN hits.alert IS 'The Wazuh alert as received';
COMMENT ON COLUMN hits.origin IS 'live: alert forwarded as it happened; retro-hunt: archived alert re-checked later';
COMMENT ON COLUMN hits.looked_up_at IS 'When the MISP answer behind this hit was obtained (a cached answer keeps its time)';

-- An audit trail is appended to, never edited: refused for every role, the owner included (an owner who must
-- correct a row can ALTER TABLE hits DISABLE TRIGGER hits_append_only, visibly).
CREATE FUNCTION hits_refuse_update() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'hits is an audit trail: rows are never updated (hit id %)', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER hits_append_only BEFORE UPDATE ON hits FOR EACH ROW EXECUTE FUNCTION hits_refuse_update();

-- ---- monthly partitions and retention ------------------------------------------------------------------------
-- Partitions are named hits_YYYY_MM and cover [first of the month, first of the next) in UTC.

-- Creates the partitions of the given months that do not exist yet. A month with rows waiting in hits_default cannot
-- get a partition while they are there (PostgreSQL refuses the overlap), so then hits_default is replaced: detached,
-- a new one created with the new partitions, its rows inserted again through hits (each to its month now), the old
-- one dropped. Rows that both occurred and were stored before keep_after are not inserted again: that is retention
-- for hits_default. No
-- UPDATE or DELETE runs; rows keep their ids.
CREATE FUNCTION hits_add_months(months timestamptz[], keep_after timestamptz DEFAULT '-infinity')
    RETURNS TABLE (action text, partition_name text, row_count bigint)
    LANGUAGE plpgsql
    SET TimeZone = 'UTC'
AS $$
DECLARE
    m         timestamptz;
    missing   timestamptz[] := '{}';
    waiting   boolean := false;
    stale     boolean;
    n         bigint;
    part_name text;
BEGIN
    FOREACH m IN ARRAY months LOOP
        m := date_trunc('month', m);
        part_name := 'hits_' || to_char(m, 'YYYY_MM');
        IF to_regclass(quote_ident(part_name)) IS NULL AND NOT m = ANY (missing) THEN
            missing := missing || m;
            waiting := waiting OR EXISTS (SELECT 1 FROM hits_default
                                          WHERE occurred_at >= m AND occurred_at < m + interval '1 month');
        END IF;
    END LOOP;
    stale := EXISTS (SELECT 1 FROM hits_default WHERE occurred_at < keep_after AND detected_at < keep_after);
    IF waiting OR stale THEN
        LOCK TABLE hits IN ACCESS EXCLUSIVE MODE;
        ALTER TABLE hits DETACH PARTITION hits_default;
        ALTER TABLE hits_default RENAME TO hits_default_replaced;
        CREATE TABLE hits_default PARTITION OF hits DEFAULT;
    END IF;
    FOREACH m IN ARRAY missing LOOP
        part_name := 'hits_' || to_char(m, 'YYYY_MM');
        EXECUTE format('CREATE TABLE %I PARTITION OF hits FOR VALUES FROM (%L) TO (%L)', part_name,
                       to_char(m, 'YYYY-MM-DD"T00:00:00Z"'), to_char(m + interval '1 month', 'YYYY-MM-DD"T00:00:00Z"'));
        action := 'created'; partition_name := part_name; row_count := 0;
        RETURN NEXT;
    END LOOP;
    IF waiting OR stale THEN
        INSERT INTO hits OVERRIDING SYSTEM VALUE
            SELECT * FROM hits_default_replaced WHERE occurred_at >= keep_after OR detected_at >= keep_after;
        GET DIAGNOSTICS n = ROW_COUNT;
        action := 'moved out of hits_default'; partition_name := 'hits_default'; row_count := n;
        RETURN NEXT;
        SELECT count(*) INTO n FROM hits_default_replaced WHERE occurred_at < keep_after AND detected_at < keep_after;
        DROP TABLE hits_default_replaced;
        IF n > 0 THEN
            action := 'dropped (retention)'; partition_name := 'hits_default'; row_count := n;
            RETURN NEXT;
        END IF;
    END IF;
END
$$;

-- What the service runs at start-up and every hour: partitions for this month and the next `months_ahead`, and for
-- every month with rows waiting in hits_default (an archive re-checked by a retro-hunt, say); then, with
-- retention_days > 0, drops every monthly partition that ended more than retention_days ago and holds nothing stored
-- in the last retention_days either (so a retro-hunt's findings about old alerts are kept as long as fresh ones), and
-- such rows of hits_default. A row is kept at least retention_days after it occurred and after it was stored, and a
-- month longer at most. Never row-by-row deletes: whole tables go.
-- SECURITY DEFINER: the application's role may run retention, and nothing else that removes rows.
CREATE FUNCTION hits_maintain(retention_days integer, months_ahead integer DEFAULT 1)
    RETURNS TABLE (action text, partition_name text, row_count bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET TimeZone = 'UTC'
AS $$
DECLARE
    this_month timestamptz := date_trunc('month', now());
    cutoff     timestamptz := CASE WHEN retention_days > 0 THEN now() - make_interval(days => retention_days)
                                   ELSE '-infinity' END;
    wanted     timestamptz[];
    part       record;
    n          bigint;
    newest     timestamptz;
BEGIN
    IF retention_days IS NULL OR retention_days < 0 OR months_ahead IS NULL OR months_ahead < 0 THEN
        RAISE EXCEPTION 'hits_maintain: retention_days and months_ahead must be 0 or more';
    END IF;
    -- wait a little for locks, then give up until the next run rather than stall inserts behind a long export
    PERFORM set_config('lock_timeout', '5s', true);
    SELECT array_agg(month) INTO wanted FROM (
        SELECT this_month + make_interval(months => k) AS month FROM generate_series(0, months_ahead) k
        UNION
        SELECT DISTINCT date_trunc('month', occurred_at) FROM hits_default
        WHERE (occurred_at >= cutoff OR detected_at >= cutoff)
          AND occurred_at >= '2000-01-01T00:00:00Z' AND occurred_at < this_month + interval '13 months') months;
    RETURN QUERY SELECT * FROM hits_add_months(wanted, cutoff);
    FOR part IN
        SELECT c.relname AS name,
               (substr(c.relname, 6, 4) || '-' || substr(c.relname, 11, 2) || '-01T00:00:00Z')::timestamptz AS month
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'hits'::regclass AND c.relname ~ '^hits_[0-9]{4}_[0-9]{2}$'
        ORDER BY c.relname
    LOOP
        IF part.month + interval '1 month' <= cutoff THEN
            EXECUTE format('SELECT max(detected_at) FROM %I', part.name) INTO newest;
            CONTINUE WHEN newest >= cutoff;
            EXECUTE format('SELECT count(*) FROM %I', part.name) INTO n;
            EXECUTE format('DROP TABLE %I', part.name);
            action := 'dropped (retention)'; partition_name := part.name; row_count := n;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
-- fixed search path (this schema, temporary objects last): a SECURITY DEFINER function must not be steered by the
-- caller's search_path
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION hits_maintain(integer, integer) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION hits_add_months(timestamptz[], timestamptz) SET search_path = %I, pg_temp',
                   current_schema());
END
$$;
REVOKE ALL ON FUNCTION hits_maintain(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION hits_add_months(timestamptz[], timestamptz) FROM PUBLIC;

-- ---- the V2 rows move in ---------------------------------------------------------------------------------------
-- Every month they occurred in gets its partition first (months outside 2000 .. a year ahead go to hits_default),
-- then this month and the next; ids are kept, and new ids continue after the largest.
SELECT count(*) FROM hits_add_months(ARRAY(
    SELECT min(o) FROM (SELECT hits_occurred_at(alert_timestamp, alert_id, detected_at) AS o FROM hits_v2) v2
    WHERE o >= '2000-01-01T00:00:00Z' AND o < now() + interval '1 year'
    GROUP BY date_trunc('month', o AT TIME ZONE 'UTC')
    UNION ALL SELECT now()
    UNION ALL SELECT now() + interval '1 month'));

INSERT INTO hits (id, occurred_at, alert_id, manager, agent_id, agent_name, rule_id, alert_timestamp, indicator_type,
                  indicator_value, source_field, drl_rule, misp_event_id, misp_event_uuid, misp_event_info,
                  misp_attribute_uuid, misp_category, misp_type, misp_value, misp_threat_level, misp_to_ids, misp_tags,
                  misp_instance, severity, suppressed, decided_by, labels, ruleset_version, correlator_version,
                  detected_at, alert, origin, looked_up_at)
OVERRIDING SYSTEM VALUE
SELECT id, hits_occurred_at(alert_timestamp, alert_id, detected_at), alert_id, manager, agent_id, agent_name, rule_id,
       alert_timestamp, indicator_type, indicator_value, source_field, drl_rule, misp_event_id, misp_event_uuid,
       misp_event_info, misp_attribute_uuid, misp_category, misp_type, misp_value, misp_threat_level, misp_to_ids,
       misp_tags, misp_instance, severity, suppressed, decided_by, labels, ruleset_version, correlator_version,
       detected_at, alert, origin, looked_up_at
FROM hits_v2;

SELECT setval(pg_get_serial_sequence('hits', 'id'), max(id)) FROM hits_v2 HAVING max(id) IS NOT NULL;
DROP TABLE hits_v2;

-- ---- views for auditors (UTC days) --------------------------------------------------------------------------------
CREATE VIEW hits_per_day AS
SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
       count(*)                               AS hits,
       count(DISTINCT (manager, alert_id))    AS alerts,
       count(DISTINCT agent_id)               AS agents,
       count(DISTINCT indicator_value)        AS indicators,
       max(severity)                          AS max_severity
FROM hits
GROUP BY 1;
COMMENT ON VIEW hits_per_day IS 'Hits, alerts, agents and distinct indicators per UTC day the alerts occurred';

CREATE VIEW hits_per_indicator AS
SELECT indicator_type,
       indicator_value,
       count(*)                        AS hits,
       count(DISTINCT agent_id)        AS agents,
       count(DISTINCT misp_event_uuid) AS misp_events,
       min(occurred_at)                AS first_seen,
       max(occurred_at)                AS last_seen,
       max(severity)                   AS max_severity
FROM hits
GROUP BY indicator_type, indicator_value;
COMMENT ON VIEW hits_per_indicator IS 'Each indicator ever hit: how often, on how many agents, first and last seen';

CREATE VIEW hits_per_misp_event AS
SELECT misp_instance,
       misp_event_uuid,
       misp_event_id,
       max(misp_event_info)            AS misp_event_info,
       count(*)                        AS hits,
       count(DISTINCT indicator_value) AS indicators,
       count(DISTINCT agent_id)        AS agents,
       min(occurred_at)                AS first_seen,
       max(occurred_at)                AS last_seen,
       max(severity)                   AS max_severity
FROM hits
GROUP BY misp_instance, misp_event_uuid, misp_event_id;
COMMENT ON VIEW hits_per_misp_event IS 'Each MISP event that matched: hits, indicators, agents, first and last seen';

CREATE VIEW hits_per_agent AS
SELECT manager,
       agent_id,
       max(agent_name)                 AS agent_name,
       count(*)                        AS hits,
       count(DISTINCT indicator_value) AS indicators,
       min(occurred_at)                AS first_seen,
       max(occurred_at)                AS last_seen,
       max(severity)                   AS max_severity
FROM hits
GROUP BY manager, agent_id;
COMMENT ON VIEW hits_per_agent IS 'Each agent with hits: how many, distinct indicators, first and last seen';

-- ---- roles -----------------------------------------------------------------------------------------------------
-- correlator_auditor: SELECT on hits and the views, nothing else. Give it to people, not the other way round:
--   CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE correlator_auditor;
-- correlator_app: what the service's connections run as (SET ROLE, see store/Database.java): INSERT and SELECT on
--   hits, and hits_maintain() for retention; no UPDATE, no DELETE, no TRUNCATE, no DDL.
-- Roles belong to the whole PostgreSQL cluster: create them once; a database user without CREATEROLE gets a warning
-- instead, and a DBA can create them and run the GRANTs below by hand.
DO $$
DECLARE
    r text;
    can_create boolean := (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user);
BEGIN
    FOREACH r IN ARRAY ARRAY['correlator_auditor', 'correlator_app'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            IF NOT can_create THEN
                RAISE WARNING 'role % does not exist and % may not create roles: hits stay without it', r, current_user;
                CONTINUE;
            END IF;
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object THEN
                NULL; -- another database of this cluster created it meanwhile
            END;
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_auditor') THEN
        GRANT SELECT ON hits, hits_per_day, hits_per_indicator, hits_per_misp_event, hits_per_agent
            TO correlator_auditor;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_app') THEN
        GRANT SELECT, INSERT ON hits TO correlator_app;
        GRANT SELECT ON hits_per_day, hits_per_indicator, hits_per_misp_event, hits_per_agent TO correlator_app;
        GRANT EXECUTE ON FUNCTION hits_maintain(integer, integer) TO correlator_app;
        -- the service's own state (V2_1): a later migration that adds a table the service uses grants it the same way
        IF to_regclass('tail_offsets') IS NOT NULL THEN
            EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON tail_offsets TO correlator_app';
        END IF;
        IF can_create AND NOT pg_has_role(current_user, 'correlator_app', 'MEMBER') THEN
            EXECUTE format('GRANT correlator_app TO %I', current_user);
        END IF;
    END IF;
    -- PostgreSQL 14 lets every role create tables in schema public; the roles above must not (PostgreSQL 15 no
    -- longer does by default). Only the schema's owner may change that; the owner of hits keeps the right.
    IF (SELECT nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) OR
               (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
        FROM pg_namespace WHERE nspname = current_schema()) THEN
        EXECUTE format('GRANT CREATE ON SCHEMA %I TO %I', current_schema(), current_user);
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
    END IF;
END
$$;
