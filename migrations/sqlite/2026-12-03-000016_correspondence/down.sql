ALTER TABLE outbox DROP COLUMN reply_to;
DROP TABLE reply_tokens;
DROP TABLE case_messages;
