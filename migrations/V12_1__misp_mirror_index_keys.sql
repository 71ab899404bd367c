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

-- An instance of an older version on the same database (a rolling upgrade) rewrites rows without these columns: its
-- upsert moves change_seq and leaves the fingerprint. Such a row is then read whole again (and its digests written
-- back) rather than indexed by digests of its old value. This version's writes bring a new fingerprint (a pull stores
-- only what differs); one that brought the same would only be read whole once more.
CREATE FUNCTION misp_mirror_digests_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.change_seq IS DISTINCT FROM OLD.change_seq AND NEW.fingerprint IS NOT DISTINCT FROM OLD.fingerprint THEN
        NEW.key_version := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER misp_mirror_digests_stale BEFORE UPDATE ON misp_mirror_attributes
    FOR EACH ROW EXECUTE FUNCTION misp_mirror_digests_stale();
