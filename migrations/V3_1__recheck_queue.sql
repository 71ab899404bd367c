-- Alerts whose indicators could not be checked (MISP down, timing out, refusing): they wait here and are checked
-- again when MISP answers, so an outage loses no hit. One row per alert; bounded by the service (MISP_RECHECK_MAX).
CREATE TABLE recheck_queue (
    manager     text        NOT NULL,
    alert_id    text        NOT NULL,
    alert       jsonb       NOT NULL,
    reason      text        NOT NULL,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    attempts    integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (manager, alert_id)
);
CREATE INDEX recheck_queue_enqueued_at_idx ON recheck_queue (enqueued_at);
COMMENT ON TABLE recheck_queue IS 'Alerts to look up again once MISP is reachable';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON recheck_queue TO correlator_app;
    END IF;
END $$;
