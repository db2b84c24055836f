-- Maintained aggregates for the dashboard and queue totals, written in the same transaction
-- as every change to a request (src/db/counts.rs). On PostgreSQL a writer adds to one of a
-- few stripes (stripe) so that concurrent intakes do not wait on one row; readers add the
-- stripes up.
CREATE TABLE case_counts (
    queue_slug TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    -- '' for unassigned
    assignee_id TEXT NOT NULL,
    stripe INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (queue_slug, category, status, priority, assignee_id, stripe)
);

-- Per hour: requests received (by partner, '' for none), closed, and still open by the
-- hour they were received (by priority), for pace, age buckets and SLA totals.
CREATE TABLE case_hour_counts (
    kind TEXT NOT NULL,
    hour TIMESTAMP NOT NULL,
    priority TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    stripe INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, hour, priority, partner_id, stripe)
);

INSERT INTO case_counts (queue_slug, category, status, priority, assignee_id, stripe, n)
SELECT queue_slug, category, status, priority, COALESCE(assignee_id, ''), 0, COUNT(*)
FROM case_requests
GROUP BY queue_slug, category, status, priority, COALESCE(assignee_id, '');

INSERT INTO case_hour_counts (kind, hour, priority, partner_id, stripe, n)
SELECT 'received', date_trunc('hour', created_at), '', COALESCE(partner_id, ''), 0, COUNT(*)
FROM case_requests
GROUP BY date_trunc('hour', created_at), COALESCE(partner_id, '');

INSERT INTO case_hour_counts (kind, hour, priority, partner_id, stripe, n)
SELECT 'closed', date_trunc('hour', closed_at), '', '', 0, COUNT(*)
FROM case_requests
WHERE closed_at IS NOT NULL
GROUP BY date_trunc('hour', closed_at);

INSERT INTO case_hour_counts (kind, hour, priority, partner_id, stripe, n)
SELECT 'open', date_trunc('hour', created_at), priority, '', 0, COUNT(*)
FROM case_requests
WHERE is_open
GROUP BY date_trunc('hour', created_at), priority;

-- Queue lists page by (created_at, id) through these, whichever filter leads: a queue's
-- open (or closed) cases, all open cases (and the SLA breach list, and the part of an hour
-- the counts above do not split), a person's cases, a queue's cases of every status. A
-- status filter goes through the first, with is_open set from the status.
DROP INDEX case_requests_open_queue;
CREATE INDEX case_requests_open_queue ON case_requests (is_open, queue_slug, created_at, id);
CREATE INDEX case_requests_open_created ON case_requests (is_open, created_at, id);
DROP INDEX case_requests_assignee;
CREATE INDEX case_requests_assignee ON case_requests (assignee_id, is_open, created_at, id);
DROP INDEX case_requests_queue_status_created;
CREATE INDEX case_requests_queue_created ON case_requests (queue_slug, created_at, id);
