-- Correspondence: what the task force wrote to a requester and what the requester answered.
CREATE TABLE case_messages (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES case_requests(id),
    -- outgoing (the task force to the requester) or incoming (the requester's answer).
    direction TEXT NOT NULL,
    -- Who wrote it: a staff account, the status page, a partner.
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    language TEXT NOT NULL,
    -- The mail that carries an outgoing message; NULL: shown on the status page only.
    outbox_id TEXT,
    -- The Message-ID header of that mail, so that a reply can be matched to its case.
    message_id TEXT,
    -- The request's reply token when the message went out (the Reply-To sub-address).
    thread_token TEXT,
    created_at TIMESTAMP NOT NULL,
    -- An incoming message nobody on staff has opened the case since.
    seen_by_staff_at TIMESTAMP
);
CREATE INDEX case_messages_by_request ON case_messages (request_id, created_at);
CREATE INDEX case_messages_by_message_id ON case_messages (message_id);
-- The cases with an answer staff have not seen, for the queue lists' "new reply" mark.
CREATE INDEX case_messages_unseen ON case_messages (request_id) WHERE direction = 'incoming' AND seen_by_staff_at IS NULL;

-- One unguessable token per request, made with its first outgoing message: the sub-address
-- of Reply-To (taskforce+TOKEN@…), the only thing besides a Message-ID that names the case.
CREATE TABLE reply_tokens (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES case_requests(id),
    token TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

-- Where a requester's reply to a mail should go (Reply-To); NULL: no Reply-To header.
ALTER TABLE outbox ADD COLUMN reply_to TEXT;
