-- Escalation of urgent requests until a person acknowledges (docs/operating/escalation.md).

-- Per queue, the ordered chain of steps: whom to page (whoever is on duty, the next person
-- on duty, the queue's notification list, or one staff member) and how many minutes to
-- wait for an acknowledgment before the next step.
CREATE TABLE escalation_steps (
    queue_slug TEXT NOT NULL REFERENCES queues(slug) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    target TEXT NOT NULL,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    wait_minutes INTEGER NOT NULL,
    PRIMARY KEY (queue_slug, position)
);

-- The urgent desk's default chain on an installation that has it (a fresh one gets it
-- from the seed): the on-duty officer at once, again after 15 minutes, then the next
-- person; the leads 15 minutes after that.
INSERT INTO escalation_steps (queue_slug, position, target, user_id, wait_minutes)
    SELECT slug, 0, 'on_duty', NULL, 15 FROM queues WHERE slug = 'urgent-protection';
INSERT INTO escalation_steps (queue_slug, position, target, user_id, wait_minutes)
    SELECT slug, 1, 'on_duty', NULL, 15 FROM queues WHERE slug = 'urgent-protection';
INSERT INTO escalation_steps (queue_slug, position, target, user_id, wait_minutes)
    SELECT slug, 2, 'next_on_duty', NULL, 15 FROM queues WHERE slug = 'urgent-protection';

-- The weekly duty schedule per queue, in the task force's local time.
CREATE TABLE duty_slots (
    id TEXT PRIMARY KEY NOT NULL,
    queue_slug TEXT NOT NULL REFERENCES queues(slug) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- 0 = Monday ... 6 = Sunday.
    weekday INTEGER NOT NULL,
    start_minute INTEGER NOT NULL,
    end_minute INTEGER NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX duty_slots_queue ON duty_slots (queue_slug, position);

-- Staff who said they are on (or off) duty for a queue, whatever the schedule says.
CREATE TABLE duty_marks (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    queue_slug TEXT NOT NULL REFERENCES queues(slug) ON DELETE CASCADE,
    on_duty BOOLEAN NOT NULL,
    set_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, queue_slug)
);

-- One escalation per request: where it stands. `pages` counts the pages sent (the index
-- of the next in the chain's plan); `next_page_at` NULL: nothing more is due.
CREATE TABLE escalations (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES case_requests(id) ON DELETE CASCADE,
    queue_slug TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    pages INTEGER NOT NULL,
    next_page_at TIMESTAMP,
    ended_at TIMESTAMP,
    ended_by TEXT,
    end_reason TEXT
);
CREATE INDEX escalations_due ON escalations (state, next_page_at);

-- Every page sent, one per recipient, with its single-use link.
CREATE TABLE escalation_pages (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES case_requests(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    target TEXT NOT NULL,
    user_id TEXT,
    outbox_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    used_by TEXT
);
CREATE INDEX escalation_pages_request ON escalation_pages (request_id, created_at);

-- The SLA notices sent, once per case and kind (soon, breached).
CREATE TABLE sla_warnings (
    request_id TEXT NOT NULL REFERENCES case_requests(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (request_id, kind)
);
-- Requests already open before warnings existed are not warned all at once on upgrade.
INSERT INTO sla_warnings (request_id, kind, sent_at)
    SELECT id, 'soon', CURRENT_TIMESTAMP FROM case_requests WHERE is_open;
INSERT INTO sla_warnings (request_id, kind, sent_at)
    SELECT id, 'breached', CURRENT_TIMESTAMP FROM case_requests WHERE is_open;

-- Keys the app makes for itself on first use (the page links' signing key), shared by
-- every instance on the database.
CREATE TABLE signing_keys (
    name TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Pages go out before all other mail: the worker looks for them first, through this index.
CREATE INDEX outbox_pages_due ON outbox (next_attempt_at) WHERE status = 'pending' AND kind = 'page';
