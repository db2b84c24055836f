ALTER TABLE routing_rules DROP COLUMN sender_domain;
