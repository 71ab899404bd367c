-- Several correlators on one PostgreSQL (README, "Wazuh cluster"). Every row the service writes names the instance
-- that wrote it: the connections of an instance carry its CORRELATOR_INSTANCE_ID as the setting correlator.instance
-- (store/Database.java), and the columns below default to it, so no INSERT has to spell it. Rows written before this
-- migration have NULL.
ALTER TABLE hits ADD COLUMN correlator_instance text DEFAULT current_setting('correlator.instance', true);
COMMENT ON COLUMN hits.correlator_instance IS 'CORRELATOR_INSTANCE_ID of the correlator that stored the hit';

-- The re-check queue is claimed row by row: an instance takes a page of unclaimed (or expired) rows with
-- FOR UPDATE SKIP LOCKED and marks them claimed for a lease; one that dies leaves them to the others at expiry.
ALTER TABLE recheck_queue ADD COLUMN correlator_instance text DEFAULT current_setting('correlator.instance', true);
ALTER TABLE recheck_queue ADD COLUMN claimed_by text;
ALTER TABLE recheck_queue ADD COLUMN claimed_until timestamptz;
COMMENT ON COLUMN recheck_queue.correlator_instance IS 'Instance that queued the alert (last)';
COMMENT ON COLUMN recheck_queue.claimed_by IS 'Instance re-checking the alert now, until claimed_until';

-- Tail offsets per manager node and file: on a Wazuh cluster every node has its own
-- /var/ossec/logs/alerts/alerts.json at the same path, followed by the correlator on that node.
-- Rows from before keep node '': the first correlator to follow that path resumes from them (store/TailOffsets.java).
ALTER TABLE tail_offsets ADD COLUMN node text NOT NULL DEFAULT '';
ALTER TABLE tail_offsets DROP CONSTRAINT tail_offsets_pkey;
ALTER TABLE tail_offsets ADD PRIMARY KEY (node, path);
COMMENT ON COLUMN tail_offsets.node IS 'Manager node (the CORRELATOR_INSTANCE_ID of the correlator next to it) whose file this is';

-- Instances alive: each updates its row every CLUSTER_HEARTBEAT; GET /v1/cluster shows them.
CREATE TABLE cluster_instances (
    instance     text        PRIMARY KEY,
    version      text        NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    -- what it does besides singletons: Kafka partitions, tailed file ... (a JSON object)
    holds        jsonb       NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE cluster_instances IS 'Correlator instances sharing this database, with their last heartbeat';

-- Singletons (retention, the mirror pull of each MISP): one row per job; the holder renews it before it expires,
-- anyone takes it once it has. The database clock decides, so the instances' clocks need not agree.
CREATE TABLE cluster_leases (
    name        text        PRIMARY KEY,
    holder      text        NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
COMMENT ON TABLE cluster_leases IS 'Which instance runs each singleton job, until when';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'correlator_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON cluster_instances, cluster_leases TO correlator_app;
    END IF;
END $$;
