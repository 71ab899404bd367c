-- Issue 16: the alert document stored once per alert instead of once per hit. An alert with three hits wrote its whole
-- JSON (a kilobyte or more, TOASTed) three times, and that was most of the bytes and WAL of every hit row. Now:
--
-- alerts   one row per alert document, keyed by (alert_digest, occurred_at): alert_digest is the first 128 bits of
--          the SHA-256 of the document's text, occurred_at the hits' own (hits_occurred_at, V3), so an alert and its
--          hits always live in the same month. Partitioned by month like hits, partitions alerts_YYYY_MM beside
--          hits_YYYY_MM, created and dropped together by hits_add_months/hits_maintain (below).
-- hits     keeps every column but alert, and gains alert_digest; the view hits_with_alert is hits with the old
--          alert column joined back, for every reader of hits.alert (the API's GET /v1/hits/{id}, exports with the
--          alert, auditors' own queries).
--
-- The service writes an alerts row only for an alert with at least one new hit (a retried alert adds nothing, as
-- before), in the same statement as its hits (store/HitSql). Its digest is over the JSON text it sends; rows migrated
-- here get theirs over PostgreSQL's jsonb text of the stored document. The two spell the same document differently,
-- so a pre-migration alert retried afterwards with a new hit gets a second alerts row with the same content: nothing
-- is lost, a kilobyte is stored twice.

CREATE TABLE alerts (
    -- the hits' occurred_at: the partition key
    occurred_at  timestamptz NOT NULL,
    -- first 128 bits of SHA-256 of the document's JSON text
    alert_digest uuid        NOT NULL,
    document     jsonb       NOT NULL,
    CONSTRAINT alerts_pkey PRIMARY KEY (alert_digest, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE alerts_default PARTITION OF alerts DEFAULT;

COMMENT ON TABLE alerts IS 'Each Wazuh alert with hits, as received, once; hits reference it by (alert_digest, occurred_at)';
COMMENT ON COLUMN alerts.occurred_at IS 'The occurred_at of its hits (see hits_occurred_at); partition key';
COMMENT ON COLUMN alerts.alert_digest IS 'First 128 bits of the SHA-256 of the document''s JSON text';
COMMENT ON COLUMN alerts.document IS 'The Wazuh alert as received';

-- a month of alerts for every month of hits, with the same bounds
DO $$
DECLARE
    part record;
BEGIN
    FOR part IN
        SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'hits'::regclass AND c.relname ~ '^hits_[0-9]{4}_[0-9]{2}$'
    LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF alerts %s', 'alerts_' || substr(part.name, 6), part.bound);
    END LOOP;
END
$$;

CREATE FUNCTION alerts_refuse_update() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'alerts is an audit trail: rows are never updated (alert %)', OLD.alert_digest
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER alerts_append_only BEFORE UPDATE ON alerts FOR EACH ROW EXECUTE FUNCTION alerts_refuse_update();

-- ---- the existing hits: their documents move to alerts, once each ---------------------------------------------
-- The one UPDATE of hits ever, by the owner in this migration: the append-only trigger steps aside for it.
ALTER TABLE hits ADD COLUMN alert_digest uuid;
ALTER TABLE hits DISABLE TRIGGER hits_append_only;
UPDATE hits SET alert_digest = encode(substr(sha256(convert_to(alert::text, 'UTF8')), 1, 16), 'hex')::uuid;
ALTER TABLE hits ENABLE TRIGGER hits_append_only;
INSERT INTO alerts (occurred_at, alert_digest, document)
SELECT DISTINCT ON (alert_digest, occurred_at) occurred_at, alert_digest, alert FROM hits;
ALTER TABLE hits ALTER COLUMN alert_digest SET NOT NULL;
-- the views of V3 do not read hits.alert, so the column can go
ALTER TABLE hits DROP COLUMN alert;
COMMENT ON COLUMN hits.alert_digest IS 'The alert of this hit: alerts (alert_digest, occurred_at); hits_with_alert joins it';

-- Every hit with its alert, as hits was before: the API's single hit and exports with the alert read this. A left join,
-- so a hit whose alert row were missing would still be listed (with alert NULL) rather than vanish.
CREATE VIEW hits_with_alert AS
SELECT h.*, a.document AS alert
FROM hits h
LEFT JOIN alerts a ON a.alert_digest = h.alert_digest AND a.occurred_at = h.occurred_at;
COMMENT ON VIEW hits_with_alert IS 'hits with the Wazuh alert of each (column alert), joined from alerts';

-- ---- partitions and retention: alerts go with hits, month by month --------------------------------------------
-- As in V3, plus: every month created for hits is created for alerts (alerts_YYYY_MM); when hits_default is replaced,
-- alerts_default is too, and its rows are inserted again only where a hit kept references them. The rows returned
-- still describe hits.
CREATE OR REPLACE FUNCTION hits_add_months(months timestamptz[], keep_after timestamptz DEFAULT '-infinity')
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
        part_name := to_char(m, 'YYYY_MM');
        IF (to_regclass(quote_ident('hits_' || part_name)) IS NULL
                OR to_regclass(quote_ident('alerts_' || part_name)) IS NULL) AND NOT m = ANY (missing) THEN
            missing := missing || m;
            waiting := waiting
                OR EXISTS (SELECT 1 FROM hits_default WHERE occurred_at >= m AND occurred_at < m + interval '1 month')
                OR EXISTS (SELECT 1 FROM alerts_default WHERE occurred_at >= m AND occurred_at < m + interval '1 month');
        END IF;
    END LOOP;
    stale := EXISTS (SELECT 1 FROM hits_default WHERE occurred_at < keep_after AND detected_at < keep_after);
    IF waiting OR stale THEN
        LOCK TABLE hits, alerts IN ACCESS EXCLUSIVE MODE;
        ALTER TABLE hits DETACH PARTITION hits_default;
        ALTER TABLE hits_default RENAME TO hits_default_replaced;
        CREATE TABLE hits_default PARTITION OF hits DEFAULT;
        ALTER TABLE alerts DETACH PARTITION alerts_default;
        ALTER TABLE alerts_default RENAME TO alerts_default_replaced;
        CREATE TABLE alerts_default PARTITION OF alerts DEFAULT;
    END IF;
    FOREACH m IN ARRAY missing LOOP
        part_name := 'hits_' || to_char(m, 'YYYY_MM');
        IF to_regclass(quote_ident(part_name)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF hits FOR VALUES FROM (%L) TO (%L)', part_name,
                           to_char(m, 'YYYY-MM-DD"T00:00:00Z"'), to_char(m + interval '1 month', 'YYYY-MM-DD"T00:00:00Z"'));
            action := 'created'; partition_name := part_name; row_count := 0;
            RETURN NEXT;
        END IF;
        part_name := 'alerts_' || to_char(m, 'YYYY_MM');
        IF to_regclass(quote_ident(part_name)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF alerts FOR VALUES FROM (%L) TO (%L)', part_name,
                           to_char(m, 'YYYY-MM-DD"T00:00:00Z"'), to_char(m + interval '1 month', 'YYYY-MM-DD"T00:00:00Z"'));
        END IF;
    END LOOP;
    IF waiting OR stale THEN
        INSERT INTO hits OVERRIDING SYSTEM VALUE
            SELECT * FROM hits_default_replaced WHERE occurred_at >= keep_after OR detected_at >= keep_after;
        GET DIAGNOSTICS n = ROW_COUNT;
        action := 'moved out of hits_default'; partition_name := 'hits_default'; row_count := n;
        RETURN NEXT;
        -- an alert is kept as long as one of its hits is
        INSERT INTO alerts
            SELECT * FROM alerts_default_replaced a
            WHERE EXISTS (SELECT 1 FROM hits h WHERE h.occurred_at = a.occurred_at AND h.alert_digest = a.alert_digest);
        DROP TABLE alerts_default_replaced;
        SELECT count(*) INTO n FROM hits_default_replaced WHERE occurred_at < keep_after AND detected_at < keep_after;
        DROP TABLE hits_default_replaced;
        IF n > 0 THEN
            action := 'dropped (retention)'; partition_name := 'hits_default'; row_count := n;
            RETURN NEXT;
        END IF;
    END IF;
END
$$;

-- As in V3, plus: a month of alerts is dropped with its month of hits (an alert shares its hits' occurred_at).
CREATE OR REPLACE FUNCTION hits_maintain(retention_days integer, months_ahead integer DEFAULT 1)
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
            EXECUTE format('DROP TABLE IF EXISTS %I', 'alerts_' || substr(part.name, 6));
            action := 'dropped (retention)'; partition_name := part.name; row_count := n;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
-- CREATE OR REPLACE resets the functions' settings: the fixed search path again (see V3)
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION hits_maintain(integer, integer) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION hits_add_months(timestamptz[], timestamptz) SET search_path = %I, pg_temp',
                   current_schema());
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_app') THEN
        GRANT SELECT, INSERT ON alerts TO correlator_app;
        GRANT SELECT ON hits_with_alert TO correlator_app;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_auditor') THEN
        GRANT SELECT ON alerts, hits_with_alert TO correlator_auditor;
    END IF;
END
$$;
