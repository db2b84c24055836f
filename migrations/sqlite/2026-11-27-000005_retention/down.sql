DROP INDEX audit_events_created;
ALTER TABLE case_requests DROP COLUMN purged_at;
