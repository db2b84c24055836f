-- Staff accounts, their sessions and queues, case workflow columns and internal notes.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    last_failed_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE queue_members (
    user_id TEXT NOT NULL REFERENCES users (id),
    queue_slug TEXT NOT NULL REFERENCES queues (slug),
    PRIMARY KEY (user_id, queue_slug)
);

-- Sessions live in the database so that every app instance sees them. The id is the
-- SHA-256 of the cookie value: a copy of the table does not let anyone log in.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

CREATE TABLE case_notes (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES case_requests (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX case_notes_request ON case_notes (request_id, created_at);

ALTER TABLE case_requests ADD COLUMN assignee_id TEXT REFERENCES users (id);
ALTER TABLE case_requests ADD COLUMN entered_by TEXT REFERENCES users (id);
ALTER TABLE case_requests ADD COLUMN closed_at TIMESTAMP;
-- Kept in step with status: an index on a boolean serves "open" lists, where
-- status <> 'resolved' would not use one.
ALTER TABLE case_requests ADD COLUMN is_open BOOLEAN NOT NULL DEFAULT TRUE;

CREATE INDEX case_requests_open_queue ON case_requests (is_open, queue_slug, created_at);
CREATE INDEX case_requests_assignee ON case_requests (assignee_id, is_open);
