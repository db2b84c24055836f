-- What an API token may do (src/domain/vocab.rs, TokenScope): submit and read its partner's
-- requests, as every token issued so far, or read the reporting statistics only.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'requests';
