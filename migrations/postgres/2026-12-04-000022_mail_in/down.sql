DROP TABLE outbox_bounces;
DROP TABLE case_attachments;
DROP TABLE unreadable_mail;
DROP TABLE inbound_mail;
