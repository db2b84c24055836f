-- Lookups read dedup_keys_key_created (key, created_at, request_id). The primary key on
-- (key, request_id) was one more index over random keys, written for every key row of
-- every intake and never read. SQLite drops a primary key only by copying the table; the
-- rowids are kept, as intake's second search reads only key rows after the last it saw.
CREATE TABLE dedup_keys_new (
    key TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES case_requests (id),
    created_at TIMESTAMP NOT NULL
);
INSERT INTO dedup_keys_new (rowid, key, request_id, created_at)
    SELECT rowid, key, request_id, created_at FROM dedup_keys ORDER BY rowid;
DROP TABLE dedup_keys;
ALTER TABLE dedup_keys_new RENAME TO dedup_keys;
CREATE INDEX dedup_keys_key_created ON dedup_keys (key, created_at, request_id);
CREATE INDEX dedup_keys_request ON dedup_keys (request_id);
