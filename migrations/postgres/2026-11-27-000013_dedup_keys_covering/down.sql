DROP INDEX dedup_keys_key_created;
CREATE INDEX dedup_keys_key_created ON dedup_keys (key, created_at);
