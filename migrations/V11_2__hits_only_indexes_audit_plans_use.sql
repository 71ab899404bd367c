-- Issue 16: every index of hits costs on every insert; keep only those an audit query's plan uses. QueryPlansIT
-- (src/test/java/.../audit/) runs every documented query and the API's and fails on an index that no plan names;
-- docs/auditing-query-plans.md shows the plans. hits_detected_at_idx was in none: no audit query filters or sorts by
-- detected_at (lists and stats go by occurred_at, the partition key). Retention reads max(detected_at) of a month
-- only once the month is past RETENTION_DAYS, right before dropping it: a scan of a table about to go, once an hour.
DROP INDEX IF EXISTS hits_detected_at_idx;
