-- The language the requester used, so mail to them is written in it.
ALTER TABLE case_requests ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
