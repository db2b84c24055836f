-- How far mail has been taken in from each IMAP mailbox: the highest UID of the mailbox's
-- UIDVALIDITY whose mail, and every mail below it, is stored. A new UIDVALIDITY starts at
-- its first mail again; the mail-in ledger keeps what was taken before from coming in twice.
CREATE TABLE imap_state (
    account TEXT NOT NULL,
    uid_validity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account, uid_validity)
);
