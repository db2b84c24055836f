ALTER TABLE partners DROP COLUMN webhook_secret;
ALTER TABLE partners DROP COLUMN webhook_url;
