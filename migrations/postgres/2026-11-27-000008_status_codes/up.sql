-- The applicant's status-check code: only its SHA-256 is kept for good. The plain code of a
-- web-form request is held until its confirmation page has shown it once, so the redirect
-- after the form can display it; then it is erased (and never shown after 24 hours).
CREATE TABLE status_codes (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES case_requests (id),
    code_hash TEXT NOT NULL,
    code_plain TEXT
);
