-- Duplicate detection. Blocking keys: each request filed under its normalized
-- identifiers and name keys, so intake finds earlier candidates through an index instead
-- of scanning every request. The keys are derived from personal data: treat the table
-- like request_personal_data.
CREATE TABLE dedup_keys (
    key TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES case_requests (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (key, request_id)
);

CREATE INDEX dedup_keys_key_created ON dedup_keys (key, created_at);
CREATE INDEX dedup_keys_request ON dedup_keys (request_id);

-- A later request (request_id) that may duplicate an earlier one (candidate_id).
-- score is per mille; reasons a JSON list of plain words (no personal data);
-- status suggested | confirmed | rejected. A rejected pair is never suggested again.
CREATE TABLE duplicate_candidates (
    request_id TEXT NOT NULL REFERENCES case_requests (id),
    candidate_id TEXT NOT NULL REFERENCES case_requests (id),
    score INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    decided_by TEXT,
    PRIMARY KEY (request_id, candidate_id)
);

CREATE INDEX duplicate_candidates_candidate ON duplicate_candidates (candidate_id);
