-- The mirror's follow mode (README, "Wazuh cluster"): one instance pulls each MISP into the mirror tables, every
-- instance keeps its in-memory index current from them. Each write of the puller (a page's upsert, a delete, a clear)
-- bumps the MISP instance's change sequence in the same transaction and tags its rows with the new number; the
-- others ask for the rows tagged after the number they have applied. The sequence row is locked by the bump until
-- commit, so writes of one MISP instance commit in sequence order and a reader that sees n sees everything up to n.
CREATE TABLE misp_mirror_changes (
    instance   text        PRIMARY KEY,            -- the MISP's URL, as in misp_mirror_attributes
    change_seq bigint      NOT NULL DEFAULT 0,     -- the last write's number
    -- a reader that has applied less than this cannot follow (a clear, or removals no longer kept): it reloads
    reset_seq  bigint      NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()  -- when the last write committed (database clock): the followers' lag
);
COMMENT ON TABLE misp_mirror_changes IS 'Change sequence of the local mirror of each MISP instance, for the instances that follow it';

ALTER TABLE misp_mirror_attributes ADD COLUMN change_seq bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN misp_mirror_attributes.change_seq IS 'misp_mirror_changes.change_seq of the write that stored this version';
CREATE INDEX misp_mirror_attributes_change ON misp_mirror_attributes (instance, change_seq);

-- Removals, so that followers drop what the puller dropped; kept a day (store/MirrorStore.java), a follower further
-- behind reloads everything.
CREATE TABLE misp_mirror_removed (
    instance   text        NOT NULL,
    uuid       text        NOT NULL,
    change_seq bigint      NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, uuid)
);
CREATE INDEX misp_mirror_removed_change ON misp_mirror_removed (instance, change_seq);
COMMENT ON TABLE misp_mirror_removed IS 'Attributes removed from the local mirror, by change sequence, for the instances that follow it';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON misp_mirror_changes, misp_mirror_removed TO correlator_app;
    END IF;
END $$;
