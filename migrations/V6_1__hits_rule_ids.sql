-- Stable rule ids (the DRL @id) beside the rule names: renaming a rule keeps its id, so audit queries over time
-- keep finding its hits. Hits stored before this migration have no ids ('' and '{}'): the names were all there was.
ALTER TABLE hits ADD COLUMN drl_rule_id text NOT NULL DEFAULT '';
ALTER TABLE hits ADD COLUMN decided_by_ids text[] NOT NULL DEFAULT '{}';

COMMENT ON COLUMN hits.drl_rule_id IS 'The @id of the DRL extraction rule that named the field (its name when it declares none)';
COMMENT ON COLUMN hits.decided_by_ids IS 'The @ids of the decided_by scoring rules, in the same order';
