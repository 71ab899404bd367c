-- How far the alerts.json tailer has read each followed file, committed after the hits of the lines before it.
CREATE TABLE tail_offsets (
    path       text        PRIMARY KEY,
    -- the file's identity (device and inode): a different key at the same path means the file was rotated
    file_key   text        NOT NULL,
    position   bigint      NOT NULL CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tail_offsets IS 'Read position of each alerts.json the tail ingest follows';
