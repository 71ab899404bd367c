-- MISP instances that synchronise with each other share attribute uuids: a value matched by two instances is two
-- hits, one per instance (each says which MISP matched), and a retried alert still adds nothing.
ALTER TABLE hits DROP CONSTRAINT hits_alert_indicator_attribute_key;
ALTER TABLE hits ADD CONSTRAINT hits_alert_indicator_attribute_key
    UNIQUE (manager, alert_id, indicator_value, misp_attribute_uuid, misp_instance, occurred_at);
