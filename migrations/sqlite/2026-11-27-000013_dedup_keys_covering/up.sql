-- A key's newest requests read from the index alone: with request_id in it, looking up
-- the dozens of requests filed under a new request's keys no longer visits the table
-- once per row.
DROP INDEX dedup_keys_key_created;
CREATE INDEX dedup_keys_key_created ON dedup_keys (key, created_at, request_id);
