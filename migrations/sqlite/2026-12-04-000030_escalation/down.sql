DROP INDEX outbox_pages_due;
DROP TABLE signing_keys;
DROP TABLE sla_warnings;
DROP TABLE escalation_pages;
DROP TABLE escalations;
DROP TABLE duty_marks;
DROP TABLE duty_slots;
DROP TABLE escalation_steps;
