-- Queues, routing rules, standard guidance, case requests and their audit trail.
CREATE TABLE queues (
    slug TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    notify_emails TEXT NOT NULL DEFAULT '',
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE routing_rules (
    id TEXT PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    category TEXT,
    priority TEXT,
    source TEXT,
    location TEXT,
    queue_slug TEXT NOT NULL REFERENCES queues (slug),
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE guidance (
    category TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    next_steps TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- What triage needs: derived facts and workflow state, no personal data. Dashboards and
-- queues read only this table.
CREATE TABLE case_requests (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    receipt_token TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    submitter_kind TEXT NOT NULL,
    applicant_location TEXT NOT NULL,
    household_size INTEGER,
    siv_status TEXT NOT NULL,
    referral_program TEXT NOT NULL,
    claimed_programs TEXT NOT NULL DEFAULT '',
    us_tie TEXT NOT NULL,
    urgent_danger BOOLEAN NOT NULL,
    urgent_medical BOOLEAN NOT NULL,
    category TEXT NOT NULL,
    category_reason TEXT NOT NULL,
    priority TEXT NOT NULL,
    priority_reason TEXT NOT NULL,
    queue_slug TEXT NOT NULL REFERENCES queues (slug),
    routing_rule_id TEXT,
    routing_rule_name TEXT,
    status TEXT NOT NULL,
    consent_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The personal data of a request, one row per request, kept apart so that it can be
-- shown only to roles that need it and anonymized without touching statistics.
CREATE TABLE request_personal_data (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES case_requests (id),
    submitter_name TEXT,
    submitter_email TEXT,
    submitter_phone TEXT,
    submitter_organization TEXT,
    applicant_full_name TEXT NOT NULL,
    applicant_date_of_birth DATE,
    applicant_phone TEXT,
    applicant_whatsapp TEXT,
    applicant_email TEXT,
    siv_case_number TEXT,
    referred_by TEXT,
    description TEXT
);

CREATE INDEX case_requests_queue_status_created ON case_requests (queue_slug, status, created_at);
CREATE INDEX case_requests_created ON case_requests (created_at);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT REFERENCES case_requests (id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX audit_events_request ON audit_events (request_id, created_at);
