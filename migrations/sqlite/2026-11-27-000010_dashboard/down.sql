DROP INDEX case_requests_queue_created;
CREATE INDEX case_requests_queue_status_created ON case_requests (queue_slug, status, created_at);
DROP INDEX case_requests_assignee;
CREATE INDEX case_requests_assignee ON case_requests (assignee_id, is_open);
DROP INDEX case_requests_open_created;
DROP INDEX case_requests_open_queue;
CREATE INDEX case_requests_open_queue ON case_requests (is_open, queue_slug, created_at);
DROP TABLE case_hour_counts;
DROP TABLE case_counts;
