CREATE TABLE dedup_keys_old (
    key TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES case_requests (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (key, request_id)
);
INSERT INTO dedup_keys_old (rowid, key, request_id, created_at)
    SELECT rowid, key, request_id, created_at FROM dedup_keys ORDER BY rowid;
DROP TABLE dedup_keys;
ALTER TABLE dedup_keys_old RENAME TO dedup_keys;
CREATE INDEX dedup_keys_key_created ON dedup_keys (key, created_at, request_id);
CREATE INDEX dedup_keys_request ON dedup_keys (request_id);
