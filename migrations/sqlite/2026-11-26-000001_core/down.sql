DROP TABLE audit_events;
DROP TABLE request_personal_data;
DROP TABLE case_requests;
DROP TABLE guidance;
DROP TABLE routing_rules;
DROP TABLE queues;
