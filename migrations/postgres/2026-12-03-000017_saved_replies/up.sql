-- Saved replies: texts a lead keeps for caseworkers to start a message from, one per
-- language at most; a reply is never sent in a language it has no text in.
CREATE TABLE saved_replies (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    -- The category it is meant for; NULL: any category.
    category TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE saved_reply_texts (
    reply_id TEXT NOT NULL REFERENCES saved_replies(id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (reply_id, language)
);
