ALTER TABLE case_requests DROP COLUMN language;
