-- Partner organizations that use the JSON API, their API tokens (stored as the SHA-256
-- of the token: a copy of the table does not let anyone submit), and which partner
-- sent each request.
CREATE TABLE partners (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    daily_quota INTEGER,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE INDEX api_tokens_partner ON api_tokens (partner_id);

ALTER TABLE case_requests ADD COLUMN partner_id TEXT REFERENCES partners (id);

-- The daily quota counts a partner's requests of the day.
CREATE INDEX case_requests_partner_created ON case_requests (partner_id, created_at);
