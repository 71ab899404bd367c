-- Where a hit came from (live traffic or a retro-hunt of archived alerts) and when MISP was asked.
ALTER TABLE hits ADD COLUMN origin text NOT NULL DEFAULT 'live' CHECK (origin IN ('live', 'retro-hunt'));
ALTER TABLE hits ADD COLUMN looked_up_at timestamptz;
COMMENT ON COLUMN hits.origin IS 'live: alert forwarded as it happened; retro-hunt: archived alert re-checked later';
COMMENT ON COLUMN hits.looked_up_at IS 'When the MISP answer behind this hit was obtained (a cached answer keeps its time)';
