-- Mail taken in: one ledger row per mail, whatever became of it. Its key (the Message-ID,
-- else a SHA-256 of the raw message) is unique, so no mail is imported twice, by any
-- instance, on any retry.
CREATE TABLE inbound_mail (
    id TEXT PRIMARY KEY NOT NULL,
    ledger_key TEXT NOT NULL UNIQUE,
    -- drop_folder, pipe or imap.
    origin TEXT NOT NULL,
    -- new_request, threaded, mentions, automatic, out_of_office, bounce or unreadable.
    outcome TEXT NOT NULL,
    -- The case it became or was added to.
    request_id TEXT,
    -- A bounce: the outgoing mail it reports on.
    outbox_id TEXT,
    -- A keyed hash of the sender's address, to limit acknowledgments per sender; never the
    -- address itself.
    sender_hash TEXT,
    acknowledged BOOLEAN NOT NULL DEFAULT FALSE,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX inbound_mail_by_sender ON inbound_mail (sender_hash, received_at);
CREATE INDEX inbound_mail_by_request ON inbound_mail (request_id);

-- Mail that could not be read: kept raw (up to a cap) for staff to retry, turn into a
-- request, or discard.
CREATE TABLE unreadable_mail (
    id TEXT PRIMARY KEY NOT NULL REFERENCES inbound_mail(id),
    reason TEXT NOT NULL,
    raw BLOB NOT NULL,
    -- The mail's whole size; raw holds at most the cap.
    size BIGINT NOT NULL,
    -- waiting, retried, converted or discarded.
    state TEXT NOT NULL,
    resolved_by TEXT,
    resolved_at TIMESTAMP,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX unreadable_mail_waiting ON unreadable_mail (received_at) WHERE state = 'waiting';

-- Files that came with a mail, kept in the database so that every instance sees them and
-- the purge and backups take them with the rest.
CREATE TABLE case_attachments (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL,
    -- The incoming message it came with (a reply), if any.
    message_row_id TEXT,
    inbound_id TEXT NOT NULL REFERENCES inbound_mail(id),
    filename TEXT NOT NULL,
    -- What the content is, from its first bytes; the mail's claim is kept beside it.
    content_type TEXT NOT NULL,
    declared_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    -- NULL: not kept (over the size limit) or purged.
    data BLOB,
    -- Why it was not kept.
    refused TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX case_attachments_by_request ON case_attachments (request_id, created_at);

-- Delivery-status reports: an outgoing mail that could not be delivered, and why (the
-- report's status and diagnostic, which name no person).
CREATE TABLE outbox_bounces (
    outbox_id TEXT PRIMARY KEY NOT NULL,
    inbound_id TEXT NOT NULL REFERENCES inbound_mail(id),
    reason TEXT NOT NULL,
    bounced_at TIMESTAMP NOT NULL
);
