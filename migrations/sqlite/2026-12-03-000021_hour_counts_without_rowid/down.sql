CREATE TABLE case_hour_counts_by_rowid (
    kind TEXT NOT NULL,
    hour TIMESTAMP NOT NULL,
    queue_slug TEXT NOT NULL,
    priority TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    stripe INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, hour, queue_slug, priority, partner_id, stripe)
);
INSERT INTO case_hour_counts_by_rowid (kind, hour, queue_slug, priority, partner_id, stripe, n)
SELECT kind, hour, queue_slug, priority, partner_id, stripe, n FROM case_hour_counts;
DROP TABLE case_hour_counts;
ALTER TABLE case_hour_counts_by_rowid RENAME TO case_hour_counts;
