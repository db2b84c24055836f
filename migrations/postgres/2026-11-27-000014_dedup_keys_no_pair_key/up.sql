-- Lookups read dedup_keys_key_created (key, created_at, request_id). The primary key on
-- (key, request_id) was one more index over random keys, written for every key row of
-- every intake and never read.
ALTER TABLE dedup_keys DROP CONSTRAINT dedup_keys_pkey;
