-- The mail worker takes the next due rows in the order it sends them (urgent first, then
-- the oldest due). An index in that order lets it read only those rows instead of sorting
-- every pending one: a backlog of unsent mail (the mail server down during a surge) does
-- not slow each claim down.
DROP INDEX outbox_due;
CREATE INDEX outbox_claim ON outbox (status, urgent DESC, next_attempt_at, id);
