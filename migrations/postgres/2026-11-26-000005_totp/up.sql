-- Optional second factor for staff: a TOTP secret, the last accepted time step (a code
-- is accepted once), hashed one-time recovery codes, and sessions that wait for the code.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE users ADD COLUMN recovery_codes TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN pending_mfa BOOLEAN NOT NULL DEFAULT FALSE;
