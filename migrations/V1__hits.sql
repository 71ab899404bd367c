-- Every MISP hit the correlator found, one row per (alert, indicator value, MISP attribute).
-- Auditors query this table; the application only ever INSERTs into it.
CREATE TABLE hits (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    severity            smallint    NOT NULL CHECK (severity BETWEEN 0 AND 15),
    suppressed          boolean     NOT NULL,
    decided_by          text[]      NOT NULL,
    labels              text[]      NOT NULL,
    ruleset_version     text        NOT NULL,
    correlator_version  text        NOT NULL,
    detected_at         timestamptz NOT NULL DEFAULT now(),
    alert               jsonb       NOT NULL,
    -- a retried alert adds nothing
    CONSTRAINT hits_alert_indicator_attribute_key UNIQUE (manager, alert_id, indicator_value, misp_attribute_uuid)
);

CREATE INDEX hits_detected_at_idx ON hits (detected_at DESC);
CREATE INDEX hits_alert_timestamp_idx ON hits (alert_timestamp DESC);
CREATE INDEX hits_indicator_value_idx ON hits (indicator_value);
CREATE INDEX hits_misp_event_uuid_idx ON hits (misp_event_uuid);
CREATE INDEX hits_agent_id_idx ON hits (agent_id, detected_at DESC);

COMMENT ON TABLE hits IS 'One row per MISP attribute matched by an indicator of a Wazuh alert';
COMMENT ON COLUMN hits.source_field IS 'Alert field the indicator was read from, as spelled in the alert';
COMMENT ON COLUMN hits.drl_rule IS 'DRL extraction rule that named the field';
COMMENT ON COLUMN hits.decided_by IS 'DRL scoring rules that set severity, labels or suppression, in firing order';
COMMENT ON COLUMN hits.suppressed IS 'Kept for audit but not sent to Wazuh';
COMMENT ON COLUMN hits.ruleset_version IS 'Content hash of the DRL files in force';
COMMENT ON COLUMN hits.alert IS 'The Wazuh alert as received';
