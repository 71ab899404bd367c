-- The local MISP mirror (MISP_MIRROR=true): the attributes pulled from each MISP instance, so that a restart loads
-- them from here instead of pulling everything again, and how far each mirror has synchronised. The service keeps
-- the same attributes in memory and answers lookups from there; these tables are read at start-up only.
CREATE TABLE misp_mirror_attributes (
    instance            text     NOT NULL,   -- the MISP's URL, as in hits.misp_instance
    uuid                text     NOT NULL,   -- the attribute's uuid
    id                  text     NOT NULL,
    event_id            text     NOT NULL,
    event_uuid          text     NOT NULL,
    event_info          text     NOT NULL,
    type                text     NOT NULL,
    category            text     NOT NULL,
    value               text     NOT NULL,
    to_ids              boolean  NOT NULL,
    threat_level        smallint NOT NULL,
    tags                jsonb    NOT NULL,   -- attribute and event tags, a JSON array of names
    attribute_timestamp bigint   NOT NULL,   -- MISP's last change of the attribute, epoch seconds
    PRIMARY KEY (instance, uuid)
);
COMMENT ON TABLE misp_mirror_attributes IS 'Attributes of the local MISP mirror, one row per instance and attribute';

CREATE TABLE misp_mirror_state (
    instance          text        PRIMARY KEY,
    -- the pull filters (to_ids, published, warning lists, types) the rows were pulled with: when the configuration
    -- changes, the rows are dropped and pulled again
    filters           text        NOT NULL,
    -- incremental pulls ask for attributes with timestamp >= this (epoch seconds, MISP's clock)
    attribute_cursor  bigint      NOT NULL DEFAULT 0,
    -- when the last successful pull started (our clock): incremental pulls also ask for events published since
    last_sync_started timestamptz,
    last_sync         timestamptz,
    last_full_sync    timestamptz,
    attributes        bigint      NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE misp_mirror_state IS 'How far the local mirror of each MISP instance has synchronised';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON misp_mirror_attributes, misp_mirror_state TO correlator_app;
    END IF;
END $$;
