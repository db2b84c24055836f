-- A queue's cases of one priority, in list order: "the high-priority cases of the triage
-- queue" read only those, however few there are among the queue's open cases (without it
-- the list read the queue in date order until it had a page of them).
CREATE INDEX case_requests_open_queue_priority
    ON case_requests (is_open, queue_slug, priority, created_at, id);
