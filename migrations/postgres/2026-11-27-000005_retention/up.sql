-- When a closed request's personal data was anonymized by the retention purge.
ALTER TABLE case_requests ADD COLUMN purged_at TIMESTAMP;
-- The audit log page lists newest first and filters by actor and action.
CREATE INDEX audit_events_created ON audit_events (created_at, id);
