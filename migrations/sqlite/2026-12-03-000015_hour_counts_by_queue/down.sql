DROP INDEX audit_events_status_changed;
DROP TABLE case_hour_counts;
CREATE TABLE case_hour_counts (
    kind TEXT NOT NULL,
    hour TIMESTAMP NOT NULL,
    priority TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    stripe INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, hour, priority, partner_id, stripe)
);

INSERT INTO case_hour_counts (kind, hour, priority, partner_id, stripe, n)
SELECT 'received', strftime('%Y-%m-%d %H:00:00', created_at), '', COALESCE(partner_id, ''), 0, COUNT(*)
FROM case_requests
GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), COALESCE(partner_id, '');

INSERT INTO case_hour_counts (kind, hour, priority, partner_id, stripe, n)
SELECT 'closed', strftime('%Y-%m-%d %H:00:00', closed_at), '', '', 0, COUNT(*)
FROM case_requests
WHERE closed_at IS NOT NULL
GROUP BY strftime('%Y-%m-%d %H:00:00', closed_at);

INSERT INTO case_hour_counts (kind, hour, priority, partner_id, stripe, n)
SELECT 'open', strftime('%Y-%m-%d %H:00:00', created_at), priority, '', 0, COUNT(*)
FROM case_requests
WHERE is_open
GROUP BY strftime('%Y-%m-%d %H:00:00', created_at), priority;
