-- A partner's webhook: where status changes of its requests are POSTed, and the secret that
-- signs them (HMAC-SHA256). The secret must be kept in clear to sign; it is shown to the
-- admin once, when it is made. Deliveries are outbox rows of kind `webhook.*` whose
-- recipient is the partner's id, so they share the mail's retries and dead letters.
ALTER TABLE partners ADD COLUMN webhook_url TEXT;
ALTER TABLE partners ADD COLUMN webhook_secret TEXT;
