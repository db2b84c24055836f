DROP INDEX case_requests_partner_created;
ALTER TABLE case_requests DROP COLUMN partner_id;
DROP TABLE api_tokens;
DROP TABLE partners;
