-- A routing rule may match the domain of a mail's sender (source email), e.g. an agency office.
ALTER TABLE routing_rules ADD COLUMN sender_domain TEXT;
