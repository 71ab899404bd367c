-- The compact mirror index (issue 16): what it needs of each attribute, stored beside it, so that a restart reads
-- four columns per row instead of the whole row and normalises no value. Rows written before (all NULL) or with
-- another key_version are read whole and their digests written back by the instance that read them.
ALTER TABLE misp_mirror_attributes
    ADD COLUMN fingerprint bigint,
    ADD COLUMN key1        bigint,
    ADD COLUMN key2        bigint,
    ADD COLUMN key_version bigint;
COMMENT ON COLUMN misp_mirror_attributes.fingerprint IS '64-bit digest of every field: a pull stores the attribute again only when it differs';
COMMENT ON COLUMN misp_mirror_attributes.key1 IS '64-bit digest of the first key (type:normalised value) the attribute matches through, 0 for none';
COMMENT ON COLUMN misp_mirror_attributes.key2 IS '64-bit digest of the second key (composite values such as domain|ip), 0 for none';
COMMENT ON COLUMN misp_mirror_attributes.key_version IS 'How the digests were computed (MirrorKeys.VERSION); NULL: read the row whole (CIDR blocks, rows written before)';
