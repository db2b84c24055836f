-- The forecast needs each queue's daily inflow, closures and open backlog by age
-- (src/db/forecast.rs): case_hour_counts gains the queue (as it is now; a move counts the
-- request out of the old queue and into the new one), refilled from the requests.
DROP TABLE case_hour_counts;
CREATE TABLE case_hour_counts (
    kind TEXT NOT NULL,
    hour TIMESTAMP NOT NULL,
    queue_slug TEXT NOT NULL,
    priority TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    stripe INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, hour, queue_slug, priority, partner_id, stripe)
);

INSERT INTO case_hour_counts (kind, hour, queue_slug, priority, partner_id, stripe, n)
SELECT 'received', date_trunc('hour', created_at), queue_slug, '', COALESCE(partner_id, ''), 0, COUNT(*)
FROM case_requests
GROUP BY date_trunc('hour', created_at), queue_slug, COALESCE(partner_id, '');

INSERT INTO case_hour_counts (kind, hour, queue_slug, priority, partner_id, stripe, n)
SELECT 'closed', date_trunc('hour', closed_at), queue_slug, '', '', 0, COUNT(*)
FROM case_requests
WHERE closed_at IS NOT NULL
GROUP BY date_trunc('hour', closed_at), queue_slug;

INSERT INTO case_hour_counts (kind, hour, queue_slug, priority, partner_id, stripe, n)
SELECT 'open', date_trunc('hour', created_at), queue_slug, priority, '', 0, COUNT(*)
FROM case_requests
WHERE is_open
GROUP BY date_trunc('hour', created_at), queue_slug, priority;

-- The forecast's pace per caseworker reads the last days' closings (src/db/forecast.rs):
-- only status changes are in this index, so intake's audit rows do not write it.
CREATE INDEX audit_events_status_changed ON audit_events (created_at, request_id, actor)
    WHERE action = 'status_changed';
