-- The observation index (look-back, issue 15): every indicator the extraction rules took from an alert, hit or not,
-- so that when MISP learns a value later the service can say who already saw it, when and where.
--
-- observations      one row per (type, value): first and last seen, how many alerts. What a look-back joins with.
-- observation_days  per value, manager, agent and UTC day: first/last seen and the first/last alert id. Partitioned by
--                   day; observations_maintain() drops whole days once past LOOKBACK_DAYS (never a DELETE of rows
--                   there) and forgets the values of observations not seen since.
-- Rows are written by the service in batches (an in-memory aggregate flushed every few seconds), never per alert:
-- a crash loses the last few seconds of aggregates, never a hit (hits are written before an alert is answered).
-- Non-global addresses and allow-listed values are never written (the normaliser and the DRL allow-lists decide).

CREATE TABLE observations (
    indicator_type text        NOT NULL,  -- md5, sha1, sha256, imphash, ip, domain, url (as hits.indicator_type)
    value          text        NOT NULL,  -- normalised as in hits.indicator_value
    first_seen     timestamptz NOT NULL,  -- the earliest alert timestamp it was seen in (within LOOKBACK_DAYS)
    last_seen      timestamptz NOT NULL,
    alerts         bigint      NOT NULL,  -- alerts it was seen in
    CONSTRAINT observations_pkey PRIMARY KEY (value, indicator_type)
);
CREATE INDEX observations_last_seen_idx ON observations (last_seen);
COMMENT ON TABLE observations IS 'Every indicator value extracted from alerts (hit or not), with first and last seen';

CREATE TABLE observation_days (
    day            date        NOT NULL,  -- UTC day of the alerts: the partition key
    indicator_type text        NOT NULL,
    value          text        NOT NULL,
    manager        text        NOT NULL,
    agent_id       text        NOT NULL,
    agent_name     text        NOT NULL,
    first_seen     timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL,
    alerts         bigint      NOT NULL,
    first_alert_id text        NOT NULL,  -- the Wazuh alert id of first_seen, to find the alert in Wazuh
    last_alert_id  text        NOT NULL,
    CONSTRAINT observation_days_pkey PRIMARY KEY (value, indicator_type, manager, agent_id, day)
) PARTITION BY RANGE (day);
COMMENT ON TABLE observation_days IS 'Per value, manager, agent and UTC day: first/last seen and alert ids; one partition a day';

-- Partitions observation_days_YYYYMMDD, one per UTC day: the days of the last lookback_days and days_ahead more are
-- created, older ones dropped, and values not seen since the cutoff removed from observations. SECURITY DEFINER: the
-- application's role runs it, but may create or drop nothing else.
CREATE FUNCTION observations_maintain(lookback_days integer, days_ahead integer DEFAULT 2)
    RETURNS TABLE (action text, partition_name text, row_count bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET TimeZone = 'UTC'
AS $$
DECLARE
    today  date := (now() AT TIME ZONE 'UTC')::date;
    oldest date;
    d      date;
    part   record;
    n      bigint;
BEGIN
    IF lookback_days IS NULL OR lookback_days < 1 OR days_ahead IS NULL OR days_ahead < 0 THEN
        RAISE EXCEPTION 'observations_maintain: lookback_days must be 1 or more, days_ahead 0 or more';
    END IF;
    oldest := today - (lookback_days - 1);
    PERFORM set_config('lock_timeout', '5s', true);
    FOR d IN SELECT generate_series(oldest, today + days_ahead, interval '1 day')::date LOOP
        partition_name := 'observation_days_' || to_char(d, 'YYYYMMDD');
        IF to_regclass(quote_ident(partition_name)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF observation_days FOR VALUES FROM (%L) TO (%L)',
                           partition_name, d, d + 1);
            action := 'created'; row_count := 0;
            RETURN NEXT;
        END IF;
    END LOOP;
    FOR part IN
        SELECT c.relname AS name, to_date(substr(c.relname, 18, 8), 'YYYYMMDD') AS day
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'observation_days'::regclass AND c.relname ~ '^observation_days_[0-9]{8}$'
        ORDER BY c.relname
    LOOP
        IF part.day < oldest THEN
            EXECUTE format('SELECT count(*) FROM %I', part.name) INTO n;
            EXECUTE format('DROP TABLE %I', part.name);
            action := 'dropped (look-back)'; partition_name := part.name; row_count := n;
            RETURN NEXT;
        END IF;
    END LOOP;
    DELETE FROM observations WHERE last_seen < oldest::timestamp AT TIME ZONE 'UTC';
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        action := 'forgotten (look-back)'; partition_name := 'observations'; row_count := n;
        RETURN NEXT;
    END IF;
END
$$;
COMMENT ON FUNCTION observations_maintain(integer, integer) IS
    'Daily partitions of observation_days: creates the last lookback_days and days_ahead more, drops older ones';
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION observations_maintain(integer, integer) SET search_path = %I, pg_temp', current_schema());
END $$;
REVOKE ALL ON FUNCTION observations_maintain(integer, integer) FROM PUBLIC;

-- Without a local mirror, the look-back asks each MISP for the attributes changed since its last question.
CREATE TABLE lookback_cursors (
    instance         text        PRIMARY KEY,   -- the MISP's URL, as in hits.misp_instance
    -- the next question asks for attributes with timestamp >= this, and events published since publish_cursor
    -- (epoch seconds, MISP's clock for the first, ours for the second)
    attribute_cursor bigint      NOT NULL DEFAULT 0,
    publish_cursor   bigint      NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE lookback_cursors IS 'How far the look-back has asked each MISP for changed attributes';

-- Hits found by joining what MISP learned with the observation index.
ALTER TABLE hits DROP CONSTRAINT hits_origin_check;
ALTER TABLE hits ADD CONSTRAINT hits_origin_check CHECK (origin IN ('live', 'retro-hunt', 'look-back'));
COMMENT ON COLUMN hits.origin IS
    'live: alert forwarded as it happened; retro-hunt: archived alert re-checked later; look-back: value seen before MISP knew it (observation index)';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_app') THEN
        GRANT SELECT, INSERT, UPDATE ON observations, observation_days, lookback_cursors TO correlator_app;
        GRANT EXECUTE ON FUNCTION observations_maintain(integer, integer) TO correlator_app;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_auditor') THEN
        GRANT SELECT ON observations, observation_days TO correlator_auditor;
    END IF;
END $$;
